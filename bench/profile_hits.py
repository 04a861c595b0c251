"""Where a cached read's time goes: cProfile of GET /api/v1/users/1 (cache hit,
bearer token), called in-process through the WSGI app, with CACHE_TRACKING off,
then on without and with CACHE_REPLAY, on PostgreSQL + Redis.

    python -m bench.profile_hits [--requests 3000] [--top 12]

Prints, for each, microseconds per request without the profiler and the
functions with the most cumulative time under it. Not part of `python -m bench`.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import subprocess
import sys
import time
import uuid

from bench.api import SECRET, flask, services
from bench.services import ROOT, flask_env, fresh_database


def profile(token: str, requests: int, top: int) -> None:
    """In a process of its own (see main): the app is configured from its environment alone."""
    from werkzeug.test import EnvironBuilder

    from best_app import create_app

    app = create_app()
    environ = EnvironBuilder(path="/api/v1/users/1", headers={"Authorization": f"Bearer {token}"}).get_environ()

    def call():
        status = []
        b"".join(app.wsgi_app(dict(environ), lambda line, headers, info=None: status.append(line)))
        assert status[0].startswith("200"), status

    for _ in range(300):
        call()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(requests):
            call()
        best = min(best, (time.perf_counter() - started) / requests)
    print(f"{best * 1e6:.0f} us per request (best of 3 runs of {requests}, environ copy included)")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"best_app|redis|flask/app", top)
    print("ncalls" + out.getvalue().split("ncalls", 1)[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--token", help=argparse.SUPPRESS)  # set in the child process
    args = parser.parse_args(argv)
    if args.token:
        profile(args.token, args.requests, args.top)
        return 0
    with services() as (server_url, redis_url), fresh_database(server_url) as database_url:
        env = flask_env(database_url, SECRET_KEY=SECRET, REDIS_URL=redis_url,
                        CACHE_KEY_PREFIX=f"profile_{uuid.uuid4().hex[:8]}:")
        flask(env, "db", "upgrade")
        flask(env, "seed", "--users", "100", "--cars-per-user", "0", "--tasks", "0")
        flask(env, "users", "create-admin", "--username", "profile_admin", "--email", "profile@example.com",
              "--password", "profile-password")
        token = flask(env, "tokens", "create", "--user", "profile_admin").strip()
        for tracking, replay in (("0", "0"), ("1", "0"), ("1", "1")):
            print(f"## CACHE_TRACKING={tracking} CACHE_REPLAY={replay}\n")
            sys.stdout.flush()
            subprocess.run([sys.executable, "-m", "bench.profile_hits", "--token", token, "--requests",
                            str(args.requests), "--top", str(args.top)], cwd=ROOT,
                           env={**env, "CACHE_TRACKING": tracking, "CACHE_REPLAY": replay}, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
