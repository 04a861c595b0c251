"""Requests per second of the JSON API, served by waitress (one process) on
PostgreSQL + Redis with 10,000 seeded users, each as a ratio to a bare Flask
app with one trivial JSON route under the same waitress settings, loaded by
the same wrk in the same run. Also measured: a bare WSGI callable under the
same waitress, a FastAPI + uvicorn peer (one worker) whose read is one Redis
GET of the same body (bench.fastapi_peer), and best_app's cached reads with
CACHE_TRACKING off (one Redis round trip per read, as before it) and with
CACHE_REPLAY off (every read through Flask, as before replays).

    python -m bench.api [--duration 5] [--connections 16] [--threads 4] [--users 10000]

Goals: a cached item or list read (bearer token, cache hit) at least 0.70 of
the bare Flask route and at least 1.3 times the FastAPI peer; a list page that
misses the cache, POST and PATCH twice the ratios they had before profiling
(0.06-0.08, 0.05-0.09). Uses TEST_DATABASE_URL/TEST_REDIS_URL when set, else
starts throwaway servers. Needs wrk (Debian package "wrk").
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.request import Request, urlopen

from bench.load import print_table, wrk
from bench.services import ROOT, flask_env, fresh_database
from config import Config

SECRET = "bench-secret"

# Each wrk thread walks its own slice of distinct cursors, so every request is
# a list page nobody asked for before: a cache miss. response() counts them.
# Each round starts its own part of the slice, past the pages the round before asked for.
MISS_SCRIPT = """
local cursors, counter = {}, 0
function setup(thread) counter = counter + 1; thread:set("slice", counter) end
function init(args)
  for line in io.lines("%(cursors)s") do cursors[#cursors + 1] = line end
  -- wrk -t2 (bench.load): halves
  local half = math.floor(#cursors / 2)
  i = (slice - 1) * half + %(round)d * math.floor(half / %(rounds)d); misses = 0; total = 0
end
function request()
  i = i + 1
  return wrk.format(nil, "/api/v1/users?limit=50&cursor=" .. cursors[(i %% #cursors) + 1])
end
function response(status, headers, body)
  total = total + 1
  if headers["X-Cache"] == "MISS" then misses = misses + 1 end
end
threads = {}
local original_setup = setup
function setup(thread) original_setup(thread); table.insert(threads, thread) end
function done(summary, latency, requests)
  local m, t = 0, 0
  for _, thread in ipairs(threads) do m = m + thread:get("misses"); t = t + thread:get("total") end
  io.write(string.format("cache misses: %%d of %%d\\n", m, t))
end
"""
POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"title": "Benchmark task", "done": false}'
wrk.headers["Content-Type"] = "application/json"
"""
# Each wrk thread edits its own slice of the seeded tasks, each task once, with
# the version it was seeded with: every request an UPDATE that passes If-Match.
# Each round starts its own part of the slice, as for the misses.
PATCH_SCRIPT = """
local counter = 0
function setup(thread) counter = counter + 1; thread:set("slice", counter) end
function init(args) i = (slice - 1) * %(per_thread)d + %(round)d * math.floor(%(per_thread)d / %(rounds)d) end
wrk.headers["Content-Type"] = "application/json"
wrk.headers["If-Match"] = '"1"'
function request()
  i = i + 1
  return wrk.format("PATCH", "/api/v1/tasks/" .. i, nil, '{"title": "Benchmark edit", "done": true}')
end
"""
PATCH_TASKS = 40_000  # more than two wrk threads edit in all rounds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def services():
    """(PostgreSQL server URL, Redis URL): the configured ones or throwaway ones."""
    if os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_DATABASE_URL"], os.environ["TEST_REDIS_URL"]
        return
    script = str(ROOT / "scripts" / "test-services.sh")
    output = subprocess.run([script, "start"], check=True, capture_output=True, text=True).stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in output.splitlines())
    try:
        yield values["TEST_DATABASE_URL"], values["TEST_REDIS_URL"]
    finally:
        subprocess.run([script, "stop", values["TEST_SERVICES_DIR"]], check=False)


@contextlib.contextmanager
def waitress(target: str, env: dict, threads: int, call: bool = False):
    """Serve `target` with waitress on a free port; yield its base URL."""
    port = free_port()
    with server([sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", f"--threads={threads}",
                 *(["--call"] if call else []), target], env, port) as url:
        yield url


@contextlib.contextmanager
def fastapi_peer(env: dict, redis_url: str, body: bytes, loop: str, http: str):
    """The FastAPI peer on uvicorn, one worker, with the given event loop and HTTP parser."""
    import redis

    key = f"bench_peer_{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    client.set(key, body)
    port = free_port()
    try:
        with server([sys.executable, "-m", "uvicorn", "bench.fastapi_peer:app", "--port", str(port), "--workers",
                     "1", "--loop", loop, "--http", http, "--log-level", "warning", "--no-access-log"],
                    {**env, "REDIS_URL": redis_url, "PEER_KEY": key}, port) as url:
            yield url
    finally:
        client.delete(key)


@contextlib.contextmanager
def server(command: list[str], env: dict, port: int):
    """Run a server process until the block ends; yield its base URL once it listens."""
    # Log to a file, not a pipe: nobody reads a pipe during the run, and a
    # full one would block the server's logging, and so the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_listening(process, port, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def wait_listening(process, port: int, log) -> None:
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"the server did not start: {log.read().decode()[-2000:]}")
        time.sleep(0.1)


def flask(env: dict, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def write_cursors(database_url: str, users: int, path: str) -> None:
    """Every page boundary of GET /users?limit=50, from the API's own cursor encoder."""
    from types import SimpleNamespace

    from best_app import create_app
    from best_app.resources.query import NEXT, ListQuery, encode_cursor

    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context(), open(path, "w") as out:
        for last_id in range(1, users - 50):
            row = SimpleNamespace(id=last_id, _sort=last_id)
            out.write(encode_cursor("users", ListQuery(), NEXT, row) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=Config({}).WAITRESS_THREADS,
                        help="waitress threads (the app's default)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the cache hits and baselines")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="measure only the rows whose name contains TEXT (repeatable; the baseline always)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1

    with services() as (server_url, redis_url), fresh_database(server_url) as database_url, \
            tempfile.TemporaryDirectory() as tmp:
        env = flask_env(database_url, SECRET_KEY=SECRET, REDIS_URL=redis_url,
                        CACHE_KEY_PREFIX=f"bench_{uuid.uuid4().hex[:8]}:", WAITRESS_THREADS=str(args.threads))
        flask(env, "db", "upgrade")
        flask(env, "seed", "--users", str(args.users), "--cars-per-user", "0", "--tasks", str(PATCH_TASKS))
        flask(env, "users", "create-admin", "--username", "bench_admin", "--email", "bench@example.com",
              "--password", "bench-password")
        auth = {"Authorization": "Bearer " + flask(env, "tokens", "create", "--user", "bench_admin").strip()}
        cursors = str(Path(tmp) / "cursors.txt")
        write_cursors(database_url, args.users, cursors)
        with contextlib.ExitStack() as servers:
            def serve(target, call=False, **extra):
                return servers.enter_context(waitress(target, {**env, **extra}, args.threads, call=call))
            bare, wsgi_url = serve("bench.bare_app:app"), serve("bench.bare_app:wsgi")
            before = serve("best_app:create_app", call=True, CACHE_TRACKING="0")
            no_replay = serve("best_app:create_app", call=True, CACHE_REPLAY="0")
            api = serve("best_app:create_app", call=True)
            body = urlopen(Request(api + "/api/v1/users/1", headers=auth)).read()
            peer = servers.enter_context(fastapi_peer(env, redis_url, body, "asyncio", "h11"))
            fast_peer = servers.enter_context(fastapi_peer(env, redis_url, body, "uvloop", "httptools"))
            # Interleaved rounds: on a shared machine the load from elsewhere drifts,
            # and within a round it weighs on every row alike. Each row's ratio is
            # the median of its ratios to the baseline in the same round.
            hit = None
            runs = [
                ("baseline: bare Flask JSON route", bare + "/", {}, hit),
                ("bare WSGI callable (waitress alone)", wsgi_url + "/", {}, hit),
                ("FastAPI + uvicorn peer (asyncio, h11): one Redis GET per read", peer + "/users/1", {}, hit),
                ("FastAPI + uvicorn peer (uvloop, httptools): one Redis GET per read", fast_peer + "/users/1", {},
                 hit),
                ("GET /api/v1/users/1 (cache hit, CACHE_TRACKING=0)", before + "/api/v1/users/1", auth, hit),
                ("GET /api/v1/users?limit=50 (cache hit, CACHE_TRACKING=0)", before + "/api/v1/users?limit=50", auth,
                 hit),
                ("GET /api/v1/users/1 (cache hit, CACHE_REPLAY=0)", no_replay + "/api/v1/users/1", auth, hit),
                ("GET /api/v1/users?limit=50 (cache hit, CACHE_REPLAY=0)", no_replay + "/api/v1/users?limit=50",
                 auth, hit),
                ("GET /api/v1/users/1 (cache hit)", api + "/api/v1/users/1", auth, hit),
                ("GET /api/v1/users?limit=50 (cache hit)", api + "/api/v1/users?limit=50", auth, hit),
                ("GET /api/v1/users?limit=50&cursor=... (cache miss)", api + "/api/v1/users", auth,
                 MISS_SCRIPT.replace("%(cursors)s", cursors)),
                ("POST /api/v1/tasks (insert, commit, invalidate)", api + "/api/v1/tasks", auth, POST_SCRIPT),
                ("PATCH /api/v1/tasks/<id> with If-Match (update, commit, invalidate)", api + "/api/v1/tasks",
                 auth, PATCH_SCRIPT.replace("%(per_thread)d", str(PATCH_TASKS // 2))),
            ]
            if args.only:
                runs = runs[:1] + [run for run in runs[1:] if any(text in run[0] for text in args.only)]
            results = measure_rounds(runs, args)

    print_table(f"JSON API on waitress (1 process, {args.threads} threads), PostgreSQL + Redis, "
                f"{args.users:,} users; wrk -t2 -c{args.connections} -d{args.duration}s, every row the median "
                f"of {args.rounds} interleaved rounds",
                results, "ratio to bare route")
    rounds = {name: result["rounds"] for name, result in results}
    peers = {name: value for name, value in rounds.items() if name.startswith("FastAPI")}
    if not peers:
        return 0
    print("\nRatio of each cache hit to the FastAPI peers (the median of the rounds' ratios), same run:")
    print("| measurement | " + " | ".join(f"to peer ({name.split('(')[1].split(')')[0]})" for name in peers) + " |")
    print("|---|" + "---:|" * len(peers))
    for name, values in rounds.items():
        if "cache hit" in name:
            print(f"| {name} | " + " | ".join(f"{median_ratio(values, peer):.2f}" for peer in peers.values()) + " |")
    return 0


def measure_rounds(runs, args) -> list:
    """(name, result) per run of (name, url, headers, wrk script or None), over args.rounds
    interleaved rounds: the result of the median requests/s, with "ratio" (the median of
    the rounds' ratios to the first run's) and "rounds" (requests/s in each round). A
    script is formatted with the round's number and the number of rounds."""
    for _name, url, headers, script in runs:  # warm caches and connections (not the scripted runs)
        if script is None:
            wrk(url, 1, 4, headers)
    rounds = [[wrk(url, args.duration, args.connections, headers,
                   script and script % {"round": number, "rounds": args.rounds})
               for _name, url, headers, script in runs]
              for number in range(args.rounds)]
    results = []
    for i, (name, _url, _headers, _script) in enumerate(runs):
        done = [each[i] for each in rounds]
        result = dict(sorted(done, key=lambda each: each["rps"])[args.rounds // 2])
        result["rounds"] = [each["rps"] for each in done]
        result["ratio"] = median_ratio(result["rounds"], [each[0]["rps"] for each in rounds])
        results.append((name, result))
    return results


def median_ratio(values: list, baselines: list) -> float:
    """The median of value / baseline, round by round."""
    return statistics.median(value / baseline for value, baseline in zip(values, baselines))


if __name__ == "__main__":
    sys.exit(main())
