"""Bulk actions on PostgreSQL + Redis: rows changed per second by one
POST /api/v1/tasks/bulk, against the same rows changed by one PATCH each
(the baseline, in the same run), both timed in process through the WSGI app.

    python -m bench.bulk [--rows 1000] [--rounds 3]

Each round marks the rows done, then open again, so every write is a real
change (a new version and a change log entry per row). Also times the
largest action allowed: every one of 10,000 tasks matched by a filter. Uses
TEST_DATABASE_URL/TEST_REDIS_URL when set, else starts throwaway servers.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from sqlalchemy import insert, select

from bench.api import services
from bench.services import fresh_database


def _app(database_url: str, redis_url: str):
    from best_app import create_app
    from config import Config

    return create_app(Config({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench",
                              "CACHE_KEY_PREFIX": "best_app_bench_bulk:"}))


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(app, rows: int, rounds: int) -> dict[str, float]:
    from best_app.extensions import db
    from best_app.models import ApiToken, Task, User
    from best_app.resources.bulk import MAX_ROWS

    with app.app_context():
        db.create_all()
        admin = User(username="bench.admin", email="bench.admin@example.com", name="Bench", is_admin=True)
        admin.set_password("bench password")
        db.session.add(admin)
        db.session.commit()
        _token, secret = ApiToken.issue(admin, name="bench")
        db.session.execute(insert(Task), [{"title": f"Bench {i}", "done": False} for i in range(MAX_ROWS)])
        db.session.commit()
        ids = db.session.scalars(select(Task.id).order_by(Task.id).limit(rows)).all()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}

    def bulk(done: bool, **selection):
        response = client.post("/api/v1/tasks/bulk", headers=headers,
                               json={"action": "mark_done" if done else "mark_open", **selection})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["totals"]["changed"] == len(response.get_json()["results"])

    def one_by_one(done: bool):
        for row_id in ids:
            response = client.patch(f"/api/v1/tasks/{row_id}", headers=headers, json={"done": done})
            assert response.status_code == 200

    bulk_s, patch_s, everything_s = [], [], []
    for _ in range(rounds):
        bulk_s.append(_timed(lambda: bulk(True, ids=list(ids))))
        patch_s.append(_timed(lambda: one_by_one(False)))
        everything_s.append(_timed(lambda: bulk(True, filter={"done": False})))
        bulk(False, filter={"done": True})
    bulk_rate, patch_rate = rows / statistics.median(bulk_s), rows / statistics.median(patch_s)
    return {"bulk rows/s": bulk_rate, "PATCH rows/s": patch_rate, "ratio": bulk_rate / patch_rate,
            f"{MAX_ROWS:,} rows by filter, s": statistics.median(everything_s)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with services() as (server_url, redis_url), fresh_database(server_url) as database_url:
        app = _app(database_url, redis_url)
        results = measure(app, args.rows, args.rounds)
        with app.app_context():
            from best_app.extensions import db
            db.engine.dispose()
    for name, value in results.items():
        print(f"{name:>28}: {value:,.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
