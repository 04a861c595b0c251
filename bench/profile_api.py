"""Where the API's time goes: cProfile of the request paths bench.api measures,
run in process through the WSGI app with a bearer token, on PostgreSQL + Redis.

    python -m bench.profile_api [--requests 500] [--top 25] [--sort tottime]

Profiles, one after the other: a list page that misses the cache
(GET /api/v1/users?limit=50&cursor=..., a new cursor each request), POST
/api/v1/tasks and PATCH /api/v1/tasks/<id> with If-Match. Each request's WSGI
environ is built before profiling starts, so the profile holds what a server
thread runs for it and nothing of the harness. Uses TEST_DATABASE_URL and
TEST_REDIS_URL when set, else starts throwaway servers.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
import uuid

from werkzeug.test import EnvironBuilder

from bench.api import SECRET, flask, services, write_cursors
from bench.services import flask_env, fresh_database


def environs(app, method: str, paths: list[str], headers: dict, body: dict | None = None) -> list[dict]:
    data = None if body is None else json.dumps(body)
    content_type = None if body is None else "application/json"
    return [EnvironBuilder(path=path, method=method, headers=headers, data=data, content_type=content_type,
                           base_url="http://127.0.0.1/").get_environ() for path in paths]


def run(app, batch: list[dict]) -> float:
    """Serve every environ in `batch` as waitress would; CPU seconds taken (of
    this process: the machine is shared, and its other work slows the wall
    clock far more). Any error status fails."""
    def start_response(status, response_headers, exc_info=None):
        if not status.startswith(("200", "201", "204")):
            raise RuntimeError(f"{status} for {environ['REQUEST_METHOD']} {environ['PATH_INFO']}")

    started = time.process_time()
    for environ in batch:
        result = app(environ, start_response)
        try:
            for _chunk in result:
                pass
        finally:
            getattr(result, "close", lambda: None)()
    return time.process_time() - started


def profile(name: str, app, batch: list[dict], top: int, sort: str, dump: str | None = None) -> None:
    if TRACE is not None:
        TRACE(app, batch[-1])
    # CPU time, not the wall clock: waits for the database and Redis, and for
    # the machine's other work, would drown what this process itself does.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    seconds = run(app, batch)
    profiler.disable()
    if dump:
        profiler.dump_stats(dump)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(sort).print_stats(top)
    print(f"## {name}: {len(batch)} requests, {1000 * seconds / len(batch):.2f} ms CPU a request under the "
          f"profiler, {stats.total_calls / len(batch):,.0f} function calls and {round_trips(stats) / len(batch):.1f} "
          "round trips a request")
    print(_trim(out.getvalue()))


ROUND_TRIPS = ("<method 'execute' of 'psycopg2.extensions.cursor' objects>",
               "<method 'commit' of 'psycopg2.extensions.connection' objects>",
               "<method 'sendall' of '_socket.socket' objects>",  # Redis, through redis-py
               "send_now")  # Redis, on the thread's own connection: one per command or pipeline
UNANSWERED = ("thread_send",)  # sent, but no reply is waited for (a cache entry's SET)


def round_trips(stats: pstats.Stats) -> int:
    """Statements (pool pings included), commits and Redis commands or pipelines whose
    reply the request waits for."""
    def calls(names) -> int:
        return sum(calls for (_file, _line, function), (_cc, calls, *_rest) in stats.stats.items()
                   if function in names)
    return calls(ROUND_TRIPS) - calls(UNANSWERED)


def _trim(text: str) -> str:
    """pstats' table without its preamble, with paths shortened to the package."""
    lines = [line for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), len(lines))
    trimmed = []
    for line in lines[start:]:
        for marker in ("/site-packages/", "/best_app/", "/lib/python3"):
            head, found, tail = line.partition(marker)
            if found:
                prefix = head[:head.rfind(" ") + 1] if " " in head else ""
                line = prefix + (found.strip("/") + "/" if marker == "/best_app/" else "") + tail
                break
        trimmed.append(line)
    return "\n".join(trimmed)


TRACE = None  # a callable(app, environ) to inspect one request of each path before its profile


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per profiled path")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--dump", metavar="PREFIX", help="also write each profile to PREFIX<n>.pstats")
    args = parser.parse_args(argv)
    n = args.requests

    with services() as (server_url, redis_url), fresh_database(server_url) as database_url, \
            tempfile.TemporaryDirectory() as tmp:
        prefix = f"profile_{uuid.uuid4().hex[:8]}:"
        env = flask_env(database_url, SECRET_KEY=SECRET, REDIS_URL=redis_url, CACHE_KEY_PREFIX=prefix)
        flask(env, "db", "upgrade")
        flask(env, "seed", "--users", str(args.users), "--cars-per-user", "0", "--tasks", str(5 * n))
        flask(env, "users", "create-admin", "--username", "bench_admin", "--email", "bench@example.com",
              "--password", "bench-password")
        token = flask(env, "tokens", "create", "--user", "bench_admin").strip()
        cursors_file = f"{tmp}/cursors.txt"
        write_cursors(database_url, args.users, cursors_file)
        with open(cursors_file) as f:
            cursors = [line.strip() for line in f][: 5 * n]

        from best_app import create_app

        from config import Config

        app = create_app(Config(env))  # as `waitress-serve --call best_app:create_app` builds it
        auth = {"Authorization": f"Bearer {token}"}
        task = {"title": "Benchmark task", "done": False}
        # Warm up: connections, the token's cache entry, compiled statements, first-use imports.
        run(app, environs(app, "GET", [f"/api/v1/users?limit=50&cursor={c}" for c in cursors[4 * n:4 * n + 50]],
                          auth))
        run(app, environs(app, "POST", ["/api/v1/tasks"] * 50, auth, task))
        run(app, environs(app, "PATCH", [f"/api/v1/tasks/{i}" for i in range(4 * n + 1, 4 * n + 51)],
                          {**auth, "If-Match": '"1"'}, {"done": True}))

        paths = [
            ("GET /api/v1/users?limit=50&cursor=... (cache miss)", lambda batch: environs(
                app, "GET", [f"/api/v1/users?limit=50&cursor={c}" for c in cursors[batch * n:(batch + 1) * n]], auth)),
            ("POST /api/v1/tasks", lambda batch: environs(app, "POST", ["/api/v1/tasks"] * n, auth, task)),
            ("PATCH /api/v1/tasks/<id> (If-Match)", lambda batch: environs(
                app, "PATCH", [f"/api/v1/tasks/{i}" for i in range(batch * n + 1, (batch + 1) * n + 1)],
                {**auth, "If-Match": '"1"'}, {"done": True})),
        ]
        for number, (name, make) in enumerate(paths, 1):
            # Unprofiled first, for the rate the profile's proportions apply to.
            cpu = run(app, make(0))
            profile(f"{name} ({1000 * cpu / n:.2f} ms CPU a request unprofiled)", app, make(1), args.top, args.sort,
                    args.dump and f"{args.dump}{number}.pstats")
        with app.app_context():
            from best_app.extensions import db

            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
