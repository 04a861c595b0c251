"""Requests per second through nginx on the loopback stack (scripts/stack.py,
2 replicas on PostgreSQL + Redis), each as a ratio to nginx serving a small
static file (/robots.txt) in the same run: the ceiling for anything nginx
fronts on this machine.

Then the cached API reads again behind nginx with a single replica, as the
ratio of N replicas to 1, with the CPU each replica, nginx, Redis, wrk and the
whole machine used during each run (from /proc, in % of one core): on a
machine with few cores that shows whether the replicas or something else
(wrk, nginx, other work) held the cores.

    python -m bench.nginx [--duration 5] [--connections 32] [--replicas 2]

Needs wrk (Debian package "wrk"). Load generator, nginx, the replicas and the
databases share the machine's cores, so compare ratios, not absolute numbers,
across machines.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from stack import Stack  # noqa: E402

from bench.cpu import CpuMeter  # noqa: E402
from bench.load import print_table, wrk  # noqa: E402
from config import Config  # noqa: E402

CACHED_READS = [("GET /api/v1/users/1", "/api/v1/users/1", False),
                ("GET /api/v1/users?limit=50", "/api/v1/users?limit=50", True)]


def _prepare(stack: Stack) -> dict:
    """Demo data, an admin and a token for it: the Authorization header."""
    stack.flask("seed", "--users", "1000", "--cars-per-user", "1", "--tasks", "1000")
    stack.flask("ensure-admin")
    return {"Authorization": "Bearer " + stack.flask("tokens", "create", "--user", "admin").strip()}


def _wrk_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk runs are children, reaped when they end
    return usage.ru_utime + usage.ru_stime


def cached_reads_with_cpu(stack: Stack, auth: dict, duration: int, connections: int) -> list[tuple]:
    """(name, wrk result, CPU % of one core by process) for each cached API read through nginx."""
    pids = {f"replica {n + 1}": process.pid for n, process in enumerate(stack.replicas)}
    pids |= {"nginx (workers)": stack.nginx.pid, "redis": stack.redis.pid}
    meter = CpuMeter(pids, with_children={"nginx (workers)"})
    results = []
    for name, path, gzip in CACHED_READS:
        headers = auth | ({"Accept-Encoding": "gzip"} if gzip else {})
        wrk(stack.url + path, 1, 4, headers)  # warm the caches and connections
        wrk_before = _wrk_seconds()
        meter.start()
        result = wrk(stack.url + path, duration, connections, headers)
        cpu = meter.stop()
        cpu["wrk"] = 100 * (_wrk_seconds() - wrk_before) / duration
        results.append((name, result, cpu))
    return results


def _per_replica_second(result: dict, cpu: dict) -> float:
    """Requests served per CPU-second the replicas used: what each core given to a replica buys."""
    replica_cores = sum(value for name, value in cpu.items() if name.startswith("replica")) / 100
    return result["rps"] / replica_cores if replica_cores else 0.0


def print_scaling(replicas: int, single: list, several: list) -> None:
    print(f"\n## Cached API reads through nginx: {replicas} replicas against 1 ({os.cpu_count()} cores)")
    print(f"| request | 1 replica, requests/s | {replicas} replicas, requests/s | ratio {replicas}/1 "
          f"| requests per replica CPU-second, 1 / {replicas} |")
    print("|---|---:|---:|---:|---:|")
    for (name, one, one_cpu), (_, many, many_cpu) in zip(single, several):
        print(f"| {name} | {one['rps']:,.0f} | {many['rps']:,.0f} | {many['rps'] / one['rps']:.2f} "
              f"| {_per_replica_second(one, one_cpu):,.0f} / {_per_replica_second(many, many_cpu):,.0f} |")
    print("\nCPU during each run, % of one core (the machine has "
          f"{100 * os.cpu_count()}%; 'machine' includes everything else running on it):")
    names = sorted({key for _, _, cpu in single + several for key in cpu}, key=lambda k: (k.startswith("machine"), k))
    print(f"| run | {' | '.join(names)} |")
    print(f"|---|{'---:|' * len(names)}")
    for count, runs in ((1, single), (replicas, several)):
        for name, _, cpu in runs:
            cells = " | ".join(f"{cpu[key]:.0f}" if key in cpu else "" for key in names)
            print(f"| {name}, {count} replica{'s' if count > 1 else ''} | {cells} |")

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--threads", type=int, default=Config({}).WAITRESS_THREADS,
                        help="waitress threads per replica (the app's default)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1

    with Stack(replicas=args.replicas, threads=args.threads) as stack:
        auth = _prepare(stack)
        gzip = {"Accept-Encoding": "gzip"}
        css = "/static/vendor/bootstrap/css/bootstrap.min.css"
        runs = [
            ("baseline: nginx, small static file (/robots.txt, 48 B)", stack.url + "/robots.txt", {}),
            ("static through nginx: bootstrap.min.css, gzip (~31 KB sent)", stack.url + css, gzip),
            ("static through nginx: bootstrap.min.css, identity (227 KB)", stack.url + css, {}),
            ("API through nginx: GET /api/v1/users/1 (token; Redis hit)", stack.url + "/api/v1/users/1", auth),
            ("API through nginx: GET /api/v1/users?limit=50 (token; Redis hit)",
             stack.url + "/api/v1/users?limit=50", auth | gzip),
            ("public page through nginx: GET /api/docs (anonymous; micro-cache)", stack.url + "/api/docs", gzip),
            ("API direct to one replica: GET /api/v1/users/1 (no nginx)",
             stack.replica_urls[0] + "/api/v1/users/1", auth),
        ]
        for _name, url, headers in runs:  # warm the caches and connections
            wrk(url, 1, 4, headers)
        results = [(name, wrk(url, args.duration, args.connections, headers)) for name, url, headers in runs]
        several = cached_reads_with_cpu(stack, auth, args.duration, args.connections)
    with Stack(replicas=1, threads=args.threads) as stack:
        single = cached_reads_with_cpu(stack, _prepare(stack), args.duration, args.connections)

    print_table(f"nginx in front of {args.replicas} waitress replicas ({args.threads} threads each), "
                f"wrk -t2 -c{args.connections} -d{args.duration}s", results, "ratio to baseline", digits=3)
    print_scaling(args.replicas, single, several)
    return 0


if __name__ == "__main__":
    sys.exit(main())
