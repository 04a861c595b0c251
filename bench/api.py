"""Requests per second of the JSON API, served by waitress (one process) on
PostgreSQL + Redis with 10,000 seeded users, each as a ratio to a bare Flask
app with one trivial JSON route under the same waitress settings, loaded by
the same wrk in the same run.

    python -m bench.api [--duration 5] [--connections 16] [--threads 8] [--users 10000]

Goals: a cached item read at least 70% of the bare route, a cached list at
least 50%; a list page that misses the cache, POST and PATCH twice the ratios
they had before profiling (0.06-0.08, 0.05-0.09). Uses TEST_DATABASE_URL and
TEST_REDIS_URL when set, else starts throwaway servers. Needs wrk (Debian package "wrk").
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.load import print_table, wrk
from bench.services import ROOT, flask_env, fresh_database

SECRET = "bench-secret"

# Each wrk thread walks its own slice of distinct cursors, so every request is
# a list page nobody asked for before: a cache miss. response() counts them.
MISS_SCRIPT = """
local cursors, counter = {}, 0
function setup(thread) counter = counter + 1; thread:set("slice", counter) end
function init(args)
  for line in io.lines("%(cursors)s") do cursors[#cursors + 1] = line end
  i = (slice - 1) * math.floor(#cursors / 2); misses = 0; total = 0  -- wrk -t2 (bench.load): halves
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
PATCH_SCRIPT = """
local counter = 0
function setup(thread) counter = counter + 1; thread:set("slice", counter) end
function init(args) i = (slice - 1) * %(per_thread)d end
wrk.headers["Content-Type"] = "application/json"
wrk.headers["If-Match"] = '"1"'
function request()
  i = i + 1
  return wrk.format("PATCH", "/api/v1/tasks/" .. i, nil, '{"title": "Benchmark edit", "done": true}')
end
"""
PATCH_TASKS = 40_000  # more than two wrk threads edit in a run


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
    command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", f"--threads={threads}",
               *(["--call"] if call else []), target]
    # Log to a file, not a pipe: nobody reads a pipe during the run, and a
    # full one would block the server's logging, and so the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"waitress did not start: {log.read().decode()[-2000:]}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


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
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--users", type=int, default=10_000)
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
        runs = []
        with waitress("bench.bare_app:app", env, args.threads) as bare:
            runs.append(("baseline: bare Flask JSON route", bare + "/", {}, None))
            results = measure(runs, args)
        with waitress("best_app:create_app", env, args.threads, call=True) as api:
            runs = [
                ("GET /api/v1/users/1 (cache hit)", api + "/api/v1/users/1", auth, None),
                ("GET /api/v1/users?limit=50 (cache hit)", api + "/api/v1/users?limit=50", auth, None),
                ("GET /api/v1/users?limit=50&cursor=... (cache miss)", api + "/api/v1/users", auth,
                 MISS_SCRIPT % {"cursors": cursors}),
                ("POST /api/v1/tasks (insert, commit, invalidate)", api + "/api/v1/tasks", auth, POST_SCRIPT),
                ("PATCH /api/v1/tasks/<id> with If-Match (update, commit, invalidate)", api + "/api/v1/tasks",
                 auth, PATCH_SCRIPT % {"per_thread": PATCH_TASKS // 2}),
            ]
            results += measure(runs, args)

    print_table(f"JSON API on waitress (1 process, {args.threads} threads), PostgreSQL + Redis, "
                f"{args.users:,} users; wrk -t2 -c{args.connections} -d{args.duration}s",
                results, "ratio to bare route")
    return 0


def measure(runs, args) -> list:
    for _name, url, headers, script in runs:  # warm caches and connections (not the miss run)
        if script is None:
            wrk(url, 1, 4, headers)
    return [(name, wrk(url, args.duration, args.connections, headers, script)) for name, url, headers, script in runs]


if __name__ == "__main__":
    sys.exit(main())
