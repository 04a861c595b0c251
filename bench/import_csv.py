"""CSV import speed: 100,000 task rows validated with the form and applied, on PostgreSQL.

Posts a generated file to POST /api/v1/tasks/import through the WSGI app in
process (no network), on a database with 1,000 users (bench.csv_common):
1. a dry run of --rows new tasks (validation only);
2. the same file applied: --rows tasks created, each recorded in the change log;
3. those tasks exported, every title changed, and the file imported again:
   --rows updates, each checked against its version and recorded.
Baseline, same run: the same new rows inserted by one executemany INSERT
(no validation, no change log): what the database alone costs.

Goal: each of the three under 30 s for 100,000 rows.

    python -m bench.import_csv [--rows 100000] [--database-url URL]
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
import time

from bench.csv_common import USERS, app_for, bench_database, scalar, token

GOAL_SECONDS = 30


def new_tasks(rows: int, first_user: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["title", "description", "done", "assignee_id"])
    for i in range(rows):
        title = f"'=SUM(A{i})" if i % 100 == 0 else f"Imported task {i}"
        description = 'Said "hello", then\nleft' if i % 10 == 0 else ""
        assignee = "" if i % 5 == 0 else first_user + i % USERS
        writer.writerow([title, description, "true" if i % 3 == 0 else "false", assignee])
    return buffer.getvalue().encode()


def retitled(exported: bytes) -> bytes:
    rows = list(csv.reader(io.StringIO(exported.decode(), newline="")))
    title = rows[0].index("title")
    for row in rows[1:]:
        row[title] = row[title] + " (edited)"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def timed_import(client, headers: dict, body: bytes, **args) -> tuple[float, dict]:
    query = "&".join(f"{name}={value}" for name, value in args.items())
    start = time.perf_counter()
    response = client.post(f"/api/v1/tasks/import?{query}", data=body,
                           headers={**headers, "Content-Type": "text/csv"})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return elapsed, response.get_json()


def baseline(app, body: bytes) -> float:
    """The same rows by one executemany INSERT, rolled back."""
    from sqlalchemy import insert

    from best_app.extensions import db
    from best_app.models import Task

    rows = [{"title": r["title"].removeprefix("'"), "description": r["description"] or None,
             "done": r["done"] == "true", "assignee_id": int(r["assignee_id"]) if r["assignee_id"] else None}
            for r in csv.DictReader(io.StringIO(body.decode(), newline=""))]
    with app.app_context():
        start = time.perf_counter()
        db.session.execute(insert(Task), rows)
        db.session.flush()
        elapsed = time.perf_counter() - start
        db.session.rollback()
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="use this database (migrated, bench admin created) as it is")
    args = parser.parse_args(argv)
    results = []
    with bench_database(args.database_url) as database_url:
        headers = {"Authorization": f"Bearer {token(database_url)}"}
        first_user = scalar(database_url, "SELECT min(id) FROM users WHERE username LIKE 'user.%'")
        before = scalar(database_url, "SELECT count(*) FROM tasks")
        app = app_for(database_url)
        client = app.test_client()
        body = new_tasks(args.rows, first_user)
        base = baseline(app, body)
        seconds, result = timed_import(client, headers, body, dry_run="true")
        assert result["created"] == args.rows and not result["applied"]
        results.append((f"dry run: {args.rows:,} new rows validated", seconds))
        seconds, result = timed_import(client, headers, body)
        assert result["created"] == args.rows and result["applied"]
        results.append((f"{args.rows:,} rows created", seconds))
        exported = client.get("/api/v1/tasks?format=csv",
                              headers=headers).get_data()
        edited = retitled(exported)
        seconds, result = timed_import(client, headers, edited)
        assert result["updated"] == args.rows + before and result["applied"], result
        results.append((f"{args.rows + before:,} rows updated (exported, retitled, re-imported)", seconds))
        logged = scalar(database_url, "SELECT count(*) FROM changes WHERE source = 'import'")
        assert logged == 2 * args.rows + before, logged

    print(f"## CSV import on PostgreSQL, POST /api/v1/tasks/import in process; baseline: the same "
          f"{args.rows:,} rows by one executemany INSERT ({base:.2f} s, no validation, no change log)")
    print("| run | seconds | rows/s | time / baseline | goal s |")
    print("|---|---:|---:|---:|---:|")
    missed = False
    for label, seconds in results:
        print(f"| {label} | {seconds:.1f} | {args.rows / seconds:,.0f} | {seconds / base:.1f} | {GOAL_SECONDS} |")
        missed |= seconds >= GOAL_SECONDS
    print(f"\ngoal: each under {GOAL_SECONDS} s: {'MISSED' if missed else 'met'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
