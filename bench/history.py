"""The change log's cost and speed on PostgreSQL: what recording adds to a
write, its pages at a million entries, and a follower catching up.

1. Writes: POST /api/v1/tasks and PATCH /api/v1/tasks/<id> served by
   waitress on PostgreSQL + Redis, loaded by wrk, with the log recorded and
   with HISTORY_ENABLED=false (the baseline), interleaved in the same run.
   Goal: at least 0.80 of the throughput without the log.
2. Reads: the log topped up to --entries entries (INSERT ... SELECT
   generate_series over --tasks tasks, a few users and cars, a year of dates,
   about three entries per transaction id, some committed out of id order),
   then VACUUM ANALYZE; each request timed in process through the WSGI app,
   as a cache miss: a row's history (API and admin), the admin's Changes page
   filtered by resource, source and dates, a feed page from the middle.
   Goal: p95 under 50 ms each; ratio to GET /api/v1/health in the same run.
3. A follower reading the whole feed from its start in pages of 1,000.
   Goal: at least 20,000 changes/s.

    python -m bench.history [--entries 1000000] [--tasks 100000] [--duration 5]
                            [--rounds 2] [--requests 100] [--database-url URL]

--database-url uses that database (migrated, seeded and topped up the first
time, reused after) instead of a fresh one: filling takes a minute, and
checking an index or a query shape needs only the timing again. Uses
TEST_DATABASE_URL/TEST_REDIS_URL when set, else starts throwaway servers.
Needs wrk (Debian package "wrk").
"""
from __future__ import annotations

import argparse
import contextlib
import html
import re
import shutil
import statistics
import sys
import time
import uuid
from datetime import timedelta

from sqlalchemy import create_engine, text

from bench.api import services, waitress
from bench.load import wrk
from bench.scale import ADMIN, Timer, create_admin, flask, vacuum_analyze
from bench.services import flask_env, fresh_database
from config import Config

WRITE_GOAL, PAGE_GOAL_MS, FOLLOW_GOAL = 0.80, 50, 20_000
SECRET = "bench-secret"

POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"title": "Benchmark task", "done": false}'
wrk.headers["Content-Type"] = "application/json"
"""
# Each wrk thread edits its own half of the tasks, one after another, with a
# title no earlier run wrote: every PATCH is a real change, so it is recorded.
PATCH_SCRIPT = """
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("slice", threads) end
function init(args) n = 0 end
function request()
  n = n + 1
  local id = ((slice - 1) * %(half)d + n) %% %(tasks)d + 1
  return wrk.format("PATCH", "/api/v1/tasks/" .. id, nil,
                    string.format('{"title": "Bench %(tag)s %%d %%d"}', slice, n))
end
"""

# One statement: resource, row, action, source and date are functions of the
# entry's number. Task 1 is the busy row (1% of all entries).
FILL = """
INSERT INTO changes (txid, resource, row_id, action, version, changed_at, actor, actor_user_id, source,
                     request_id, fields)
SELECT :base + i / 3 - CASE WHEN i % 97 = 0 THEN 5 ELSE 0 END,
       CASE WHEN i % 10 = 0 THEN 'users' WHEN i % 10 = 5 THEN 'cars' ELSE 'tasks' END,
       CASE WHEN i % 10 = 0 THEN 1 + i % :users WHEN i % 10 = 5 THEN 1 + i % 1000
            WHEN i % 100 = 1 THEN 1 ELSE 1 + (i * 7919) % :tasks END,
       CASE WHEN i % 37 = 0 THEN 'create' WHEN i % 101 = 0 THEN 'delete' ELSE 'update' END,
       CASE WHEN i % 101 = 0 AND i % 37 <> 0 THEN NULL ELSE 1 + i % 50 END,
       now() - interval '365 days' + i * (interval '365 days' / :n),
       'token 7 of user #' || (1 + i % 50), 1 + i % 50,
       CASE WHEN i % 200 = 0 THEN 'cascade' WHEN i % 50 = 0 THEN 'bulk' WHEN i % 7 = 0 THEN 'cli'
            WHEN i % 3 = 0 THEN 'admin' ELSE 'api' END,
       md5(i::text), json_build_object('title', json_build_array('old ' || i, 'new ' || i))
FROM generate_series(1, CAST(:n AS bigint)) AS i
"""


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[94] if len(samples) > 1 else samples[0]


# -- 1. writes ---------------------------------------------------------------------------

def measure_writes(database_url: str, redis_url: str, tasks: int, args) -> list[tuple[str, dict, dict]]:
    env = flask_env(database_url, SECRET_KEY=SECRET, REDIS_URL=redis_url, WAITRESS_THREADS=str(args.threads),
                    CACHE_KEY_PREFIX=f"bench_{uuid.uuid4().hex[:8]}:")
    auth = {"Authorization": "Bearer " + flask(env, "tokens", "create", "--user", ADMIN[0]).strip()}
    runs: dict[tuple[str, bool], list[dict]] = {}
    with waitress("best_app:create_app", {**env, "HISTORY_ENABLED": "false"}, args.threads, call=True) as off, \
            waitress("best_app:create_app", {**env, "HISTORY_ENABLED": "true"}, args.threads, call=True) as on:
        for base in (off, on):  # warm connections
            wrk(base + "/api/v1/tasks", 1, 4, auth, POST_SCRIPT)
        for round_ in range(args.rounds):
            for name, path, script in (("POST /api/v1/tasks", "/api/v1/tasks", POST_SCRIPT),
                                       ("PATCH /api/v1/tasks/<id>", "/", PATCH_SCRIPT)):
                for recorded, base in ((False, off), (True, on)):
                    tag = f"{round_}{'on' if recorded else 'off'}{uuid.uuid4().hex[:6]}"
                    lua = script % {"half": tasks // 2, "tasks": tasks, "tag": tag} if "%" in script else script
                    result = wrk(base + path, args.duration, args.connections, auth, lua)
                    runs.setdefault((name, recorded), []).append(result)
                    print(f"  {name} log {'on' if recorded else 'off'}: {result['rps']:,.0f}/s",
                          file=sys.stderr, flush=True)

    def median(name, recorded):
        results = runs[(name, recorded)]
        return {key: statistics.median(r[key] for r in results) for key in ("rps", "p50", "p99")}

    return [(name, median(name, False), median(name, True))
            for name in ("POST /api/v1/tasks", "PATCH /api/v1/tasks/<id>")]


# -- 2. a million entries --------------------------------------------------------------------

def fill(database_url: str, entries: int, tasks: int, users: int) -> None:
    """Top the log up to `entries`, with transaction ids the server has really handed out
    (the feed only shows ids below the oldest running transaction)."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        missing = entries - connection.scalar(text("SELECT count(*) FROM changes"))
        if missing > 0:
            print(f"adding {missing:,} change entries ...", file=sys.stderr, flush=True)
            start = time.perf_counter()
            base = connection.scalar(text("SELECT txid_current()"))
            # Use up a transaction id for every three entries, as real writes would.
            connection.execute(text(f"DO $$ BEGIN FOR i IN 1..{missing // 3 + 10} LOOP PERFORM txid_current(); "
                                    "COMMIT; END LOOP; END $$"))
            connection.execute(text(FILL), {"base": base, "n": missing, "tasks": tasks, "users": users})
            print(f"added in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    engine.dispose()


def _app(database_url: str):
    from best_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET,
                      "CACHE_TYPE": "SimpleCache", "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/admin/login", data={"login": ADMIN[0], "password": ADMIN[2],
                                             "csrf_token": csrf}).status_code == 302
    return app, client


def follow(client, auth: dict, halfway: int) -> tuple[dict, str]:
    """Read the feed from its start in pages of 1,000; (figures, the cursor after `halfway` changes)."""
    pages, seen, middle, cursor = [], 0, None, None
    total = time.perf_counter()
    while True:
        start = time.perf_counter()
        response = client.get("/api/v1/changes?limit=1000" + (f"&after={cursor}" if cursor else ""), headers=auth)
        pages.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        body = response.get_json()
        seen, cursor = seen + len(body["items"]), body["next_cursor"]
        if middle is None and seen >= halfway:
            middle = cursor
        if not body["more"]:
            break
    seconds = time.perf_counter() - total
    return {"changes": seen, "seconds": seconds, "rate": seen / seconds, "pages": len(pages),
            "p50": statistics.median(pages), "p95": _p95(pages)}, middle or cursor


def _admin_next(client, url: str) -> str:
    """The URL of the admin pager's "Next" link."""
    page = client.get(url).get_data(as_text=True)
    return html.unescape(re.search(r'rel="next"\s+href="([^"]+)"', page).group(1))


def measure_reads(database_url: str, args) -> tuple[list[tuple[str, list[float]]], dict]:
    from sqlalchemy import select

    from best_app.extensions import db
    from best_app.models import Change

    token = flask(flask_env(database_url), "tokens", "create", "--user", ADMIN[0]).strip()
    app, client = _app(database_url)
    with app.app_context():
        newest = db.session.scalar(select(Change.changed_at).order_by(Change.id.desc()).limit(1))
        db.session.remove()
    auth = {"Authorization": f"Bearer {token}"}
    print("following the feed ...", file=sys.stderr, flush=True)
    followed, middle = follow(client, auth, args.entries // 2)
    # A day and a month in the middle of the year of entries.
    day = (newest - timedelta(days=180)).date()
    month = (day.replace(day=1), (day.replace(day=1) + timedelta(days=32)).replace(day=1))
    busy, typical = 1, args.tasks // 2
    timer = Timer(app, client, args.requests, args.seconds)
    cursor = client.get(f"/api/v1/tasks/{busy}/history", headers=auth).get_json()["next_cursor"]
    month_url = f"/admin/changes?changed_after={month[0]}&changed_before={month[1]}"
    cases = [
        ("baseline: GET /api/v1/health", "/api/v1/health", {}),
        ("API task history (busy row: 1% of the log)",
         f"/api/v1/tasks/{busy}/history", auth),
        ("API task history, next page", f"/api/v1/tasks/{busy}/history?cursor={cursor}", auth),
        ("API task history (a typical row)", f"/api/v1/tasks/{typical}/history", auth),
        ("API task history, limit=1000", f"/api/v1/tasks/{busy}/history?limit=1000", auth),
        ("admin task history (busy row: 1% of the log)", f"/admin/tasks/{busy}/history", {}),
        ("admin task history (typical row)", f"/admin/tasks/{typical}/history", {}),
        ("admin changes", "/admin/changes", {}),
        ("admin changes?resource=cars (10%)", "/admin/changes?resource=cars", {}),
        ("admin changes?source=admin (~25%)", "/admin/changes?source=admin", {}),
        ("admin changes?source=cascade (0.5%)", "/admin/changes?source=cascade", {}),
        ("admin changes?source=import (none)", "/admin/changes?source=import", {}),
        ("admin changes?actor_user_id=7 (2%)", "/admin/changes?actor_user_id=7", {}),
        (f"admin changes, one day ({day})",
         f"/admin/changes?changed_after={day}&changed_before={day + timedelta(days=1)}", {}),
        (f"admin changes, one month ({month[0]:%Y-%m})", month_url, {}),
        ("admin changes, one month, next page", _admin_next(client, month_url), {}),
        ("admin changes, one month, last page", timer.admin_last(month_url), {}),
        ("admin changes, one month, resource=cars, source=cascade",
         f"/admin/changes?changed_after={month[0]}&changed_before={month[1]}&resource=cars&source=cascade", {}),
        ("API feed after a cursor halfway (limit 100)", f"/api/v1/changes?after={middle}", auth),
        ("API feed after a cursor halfway, limit=1000", f"/api/v1/changes?after={middle}&limit=1000", auth),
        ("API feed after a cursor halfway, resource=cars", f"/api/v1/changes?after={middle}&resource=cars", auth),
    ]
    print("timing ...", file=sys.stderr, flush=True)
    results = []
    for label, url, headers in cases:
        results.append((label, timer.samples(url, headers)))
        print(f"  {label}: p95 {_p95(results[-1][1]):.1f} ms", file=sys.stderr, flush=True)
    with app.app_context():
        db.engine.dispose()
    return results, followed


# -- the run ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def _database(args, server_url: str):
    if args.database_url:
        yield args.database_url
        return
    with fresh_database(server_url) as database_url:
        yield database_url


def prepare(database_url: str, args) -> None:
    env = flask_env(database_url)
    flask(env, "db", "upgrade")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        empty = not connection.scalar(text("SELECT EXISTS (SELECT 1 FROM tasks)"))
    engine.dispose()
    if empty:
        print(f"seeding {args.tasks:,} tasks ...", file=sys.stderr, flush=True)
        flask(env, "seed", "--users", str(args.users), "--cars-per-user", "0", "--tasks", str(args.tasks),
              "--random-seed", "1")
    create_admin(database_url)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="change log entries for the reads")
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks the entries are about")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk measurement")
    parser.add_argument("--rounds", type=int, default=2, help="wrk measurements of each write (median)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=Config({}).WAITRESS_THREADS,
                        help="waitress threads (the app's default)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per read")
    parser.add_argument("--seconds", type=float, default=10, help="stop a read's timing after this long")
    parser.add_argument("--database-url", help="use (and fill, the first time) this database")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1

    with services() as (server_url, redis_url), _database(args, server_url) as database_url:
        prepare(database_url, args)
        print("timing writes ...", file=sys.stderr, flush=True)
        writes = measure_writes(database_url, redis_url, args.tasks, args)
        fill(database_url, args.entries, args.tasks, args.users)
        print("VACUUM ANALYZE ...", file=sys.stderr, flush=True)
        vacuum_analyze(database_url)
        reads, followed = measure_reads(database_url, args)

    missed = []
    print(f"## writes with the change log on and off: waitress (1 process, {args.threads} threads), PostgreSQL + "
          f"Redis, {args.tasks:,} tasks; wrk -t2 -c{args.connections} -d{args.duration}s, median of {args.rounds}")
    print("| request | log off req/s | log on req/s | on p50 ms | on p99 ms | on / off | goal |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, off, on in writes:
        ratio = on["rps"] / off["rps"]
        print(f"| {name} | {off['rps']:,.0f} | {on['rps']:,.0f} | {on['p50']:.2f} | {on['p99']:.2f} | "
              f"{ratio:.2f} | ≥ {WRITE_GOAL:.2f} |")
        if ratio < WRITE_GOAL:
            missed.append(name)
    print(f"\n## the change log at {args.entries:,} entries: pages timed in process (server time, cache misses), "
          f"up to {args.requests} requests each")
    print("| request | n | p50 ms | p95 ms | p95 / baseline p95 | goal ms |")
    print("|---|---:|---:|---:|---:|---:|")
    baseline = _p95(reads[0][1])
    for label, samples in reads:
        # A page of 1,000 is the follower's (its goal is the rate below), not a page someone reads.
        p95, goal = _p95(samples), None if label.startswith("baseline") or "limit=1000" in label else PAGE_GOAL_MS
        print(f"| {label} | {len(samples)} | {statistics.median(samples):.1f} | {p95:.1f} | {p95 / baseline:.1f} | "
              f"{goal or ''} |")
        if goal and p95 >= goal:
            missed.append(label)
    print("\n## a follower reading the whole feed from its start, pages of 1,000 (in process)")
    print("| changes | pages | seconds | changes/s | page p50 ms | page p95 ms | goal changes/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {followed['changes']:,} | {followed['pages']:,} | {followed['seconds']:.1f} | {followed['rate']:,.0f} | "
          f"{followed['p50']:.1f} | {followed['p95']:.1f} | ≥ {FOLLOW_GOAL:,} |")
    if followed["rate"] < FOLLOW_GOAL:
        missed.append("follower")
    print(f"\n{len(missed)} over their goal" + (": " + "; ".join(missed) if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
