"""Requests per second through nginx on the loopback stack (scripts/stack.py,
2 replicas on PostgreSQL + Redis), each as a ratio to nginx serving a small
static file (/robots.txt) in the same run: the ceiling for anything nginx
fronts on this machine.

    python -m bench.nginx [--duration 5] [--connections 32] [--replicas 2]

Needs wrk (Debian package "wrk"). Load generator, nginx, the replicas and the
databases share the machine's cores, so compare ratios, not absolute numbers,
across machines.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from stack import Stack  # noqa: E402

from bench.load import print_table, wrk  # noqa: E402

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per replica")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1

    with Stack(replicas=args.replicas, threads=args.threads) as stack:
        stack.flask("seed", "--users", "1000", "--cars-per-user", "1", "--tasks", "1000")
        stack.flask("ensure-admin")
        auth = {"Authorization": "Bearer " + stack.flask("tokens", "create", "--user", "admin").strip()}
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

    print_table(f"nginx in front of {args.replicas} waitress replicas ({args.threads} threads each), "
                f"wrk -t2 -c{args.connections} -d{args.duration}s", results, "ratio to baseline", digits=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
