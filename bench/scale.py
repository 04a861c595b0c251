"""Server time of every list (admin page and API) and the dashboard over a
million users, cars and tasks on PostgreSQL.

Seeds --rows users (a car each) and --rows tasks into a fresh database,
VACUUM ANALYZEs it, logs an admin in and makes an API token, then times
requests in process through the WSGI app (routing, auth, queries, template
rendering or JSON; no network). Each list is asked for in both surfaces: its
first page, its last page (the cursor the API's Link rel="last" and the admin
pager's "Last" carry), filtered, searched (common and rare terms, across
references: cars by their owner, tasks by their assignee) and counted
(count=true in the API; an admin list always counts). The cache is emptied
before every timed request, so each figure is what a miss costs: the
database's work, not a cached copy. Each figure is also given as a ratio to
GET /api/v1/health (one SELECT 1 and a cache ping) measured in the same run.

Goal: every list under 50 ms at p95, the dashboard under 100 ms.

    python -m bench.scale [--rows 1000000] [--requests 100] [--seconds 10]
                          [--database-url URL]

--database-url times an existing database seeded the same way (`flask seed
--users N --cars-per-user 1 --tasks N`) instead of seeding a fresh one:
seeding a million rows takes minutes, and comparing a change to the indexes
or the queries needs only the timing again.
"""
from __future__ import annotations

import argparse
import contextlib
import html
import re
import statistics
import subprocess
import sys
import time
from datetime import date
from urllib.parse import quote

from sqlalchemy import create_engine, text

from bench.services import ROOT, flask_env, fresh_database, postgres_server

LIST_GOAL_MS, DASHBOARD_GOAL_MS = 50, 100
ADMIN = ("bench.admin", "bench.admin@example.com", "bench admin password")


def flask(env: dict, *args: str, check: bool = True) -> str:
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=check,
                          capture_output=True, text=True).stdout


def create_admin(database_url: str) -> None:
    """The admin whose session and token the requests use (kept if there already)."""
    flask(flask_env(database_url), "users", "create-admin", "--username", ADMIN[0], "--email", ADMIN[1],
          "--password", ADMIN[2], check=False)


def seed(database_url: str, rows: int) -> None:
    env = flask_env(database_url)
    flask(env, "db", "upgrade")
    print(f"seeding {rows:,} users, {rows:,} cars and {rows:,} tasks ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    # The seed's progress bar goes to our stderr.
    subprocess.run([sys.executable, "-m", "flask", "seed", "--users", str(rows), "--cars-per-user", "1",
                    "--tasks", str(rows), "--random-seed", "1"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"seeded in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def vacuum_analyze(database_url: str) -> None:
    # What autovacuum does to freshly filled tables within a minute or so:
    # statistics for the planner, the visibility map that index-only scans
    # need, and the trigram indexes' pending-insert lists merged.
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _p(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


class Timer:
    """Times GETs through one test client, each after emptying the cache."""

    def __init__(self, app, client, requests: int, seconds: float):
        self.app, self.client, self.requests, self.seconds = app, client, requests, seconds

    def _get(self, url: str, headers: dict):
        from best_app.extensions import cache

        with self.app.app_context():
            cache.clear()
        start = time.perf_counter()
        response = self.client.get(url, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:500])
        return elapsed, response

    def samples(self, url: str, headers: dict) -> list[float]:
        for _ in range(3):  # warm the connection pool and the statement's plan
            self._get(url, headers)
        samples, deadline = [], time.monotonic() + self.seconds
        while len(samples) < self.requests and (len(samples) < 10 or time.monotonic() < deadline):
            samples.append(self._get(url, headers)[0])
        return samples

    def api_last(self, url: str, headers: dict) -> str:
        """The URL the API's Link rel="last" points at."""
        link = self._get(url, headers)[1].headers.get("Link", "")
        return re.search(r'<([^>]+)>; rel="last"', link).group(1)

    def admin_last(self, url: str) -> str:
        """The URL of the admin pager's "Last" link."""
        page = self._get(url, {})[1].get_data(as_text=True)
        return html.unescape(re.search(r'rel="last"\s+href="([^"]+)"', page).group(1))


def _views(sample) -> dict[str, list[tuple[str, bool]]]:
    """Resource -> (query string, whether its last page is timed too)."""
    day = sample["day"]
    return {
        "users": [("", True), ("role=teacher", False), ("is_admin=true", False), ("has_cars=false", False),
                  ("has_cars=true", False), (f"created_after={day}", False), ("q=a", False), ("q=an", False),
                  (f"q={sample['first']}", False), (f"q={sample['username']}", False),
                  ("q=no-such-person", False), ("sort=email", True), ("sort=-email", True),
                  ("sort=-name", True)],
        "cars": [("", True), (f"owner_id={sample['id']}", False), (f"created_after={day}", False),
                 ("q=a", False), ("q=an", False), (f"q={quote(sample['name'])}", False),
                 (f"q={sample['first']}", False), (f"q={sample['username']}", False),
                 ("sort=-model", True)],
        "tasks": [("", True), ("done=false", False), ("assignee_id=none", False),
                  (f"assignee_id={sample['id']}", False), (f"created_after={day}", False),
                  ("done=false&assignee_id=none", False), ("q=a", False), ("q=an", False),
                  (f"q={quote(sample['name'])}", False), (f"q={sample['username']}", False),
                  ("sort=-title", True)],
    }


def _measure(database_url: str, timer_args: tuple[int, float], token: str) -> list[tuple[str, list[float]]]:
    from sqlalchemy import func, select

    from best_app import create_app
    from best_app.extensions import db
    from best_app.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                      "CACHE_TYPE": "SimpleCache", "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.post("/admin/login", data={"login": ADMIN[0], "password": ADMIN[2],
                                             "csrf_token": csrf}).status_code == 302
    with app.app_context():
        middle = db.session.scalar(select(func.max(User.id))) // 2
        row = db.session.execute(select(User.id, User.username, User.name, User.created_at)
                                 .where(User.id >= middle).order_by(User.id).limit(1)).one()
        db.session.remove()
    sample = {"id": row.id, "username": row.username, "name": row.name, "first": row.name.split()[0],
              "day": row.created_at.date().isoformat() if row.created_at else date.today().isoformat()}
    auth = {"Authorization": f"Bearer {token}"}
    timer = Timer(app, client, *timer_args)

    results = [("baseline: GET /api/v1/health", timer.samples("/api/v1/health", {}))]
    print("timing ...", file=sys.stderr, flush=True)
    for resource, views in _views(sample).items():
        for view, last in views:
            api, admin = f"/api/v1/{resource}?{view}", f"/admin/{resource}?{view}"
            name = f"{resource}?{view}" if view else resource
            cases = [(f"API {resource}?{view + '&' if view else ''}count=true", api + "&count=true", auth)]
            if not view:
                cases.insert(0, (f"API {name} (no count)", api, auth))
            cases.append((f"admin {name}", admin, {}))
            if last:
                cases += [(f"API {name}, last page", timer.api_last(api, auth), auth),
                          (f"admin {name}, last page", timer.admin_last(admin), {})]
            for label, url, headers in cases:
                samples = timer.samples(url, headers)
                results.append((label, samples))
                print(f"  {results[-1][0]}: p95 {_p(samples, 95):.1f} ms", file=sys.stderr, flush=True)
    results.append(("admin dashboard /admin/", timer.samples("/admin/", {})))
    with app.app_context():
        db.engine.dispose()
    return results


@contextlib.contextmanager
def _database(args):
    if args.database_url:
        flask(flask_env(args.database_url), "db", "upgrade")  # new indexes, if any
        create_admin(args.database_url)
        vacuum_analyze(args.database_url)
        yield args.database_url
        return
    with postgres_server() as server, fresh_database(server) as database_url:
        seed(database_url, args.rows)
        create_admin(database_url)
        print("VACUUM ANALYZE ...", file=sys.stderr, flush=True)
        vacuum_analyze(database_url)
        yield database_url


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="users, cars and tasks each")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per measurement")
    parser.add_argument("--seconds", type=float, default=10,
                        help="stop a measurement after this long (and at least 10 requests)")
    parser.add_argument("--database-url", help="time this database, already seeded, instead of a fresh one")
    args = parser.parse_args(argv)

    with _database(args) as database_url:
        token = flask(flask_env(database_url), "tokens", "create", "--user", ADMIN[0]).strip()
        results = _measure(database_url, (args.requests, args.seconds), token)

    print(f"## lists and dashboard on PostgreSQL, {args.rows:,} users, cars and tasks each; "
          f"up to {args.requests} requests each, every one a cache miss (in process, server time)")
    print("| request | n | p50 ms | p95 ms | p95 / baseline p95 | goal ms |")
    print("|---|---:|---:|---:|---:|---:|")
    baseline_p95 = _p(results[0][1], 95)
    missed = []
    for label, samples in results:
        p95 = _p(samples, 95)
        goal = None if label.startswith("baseline") else DASHBOARD_GOAL_MS if "dashboard" in label else LIST_GOAL_MS
        print(f"| {label} | {len(samples)} | {statistics.median(samples):.1f} | {p95:.1f} | "
              f"{p95 / baseline_p95:.1f} | {goal or ''} |")
        if goal and p95 >= goal:
            missed.append(label)
    print(f"\n{len(missed)} of {len(results) - 1} over their goal" + (": " + "; ".join(missed) if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
