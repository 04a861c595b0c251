"""How long `flask seed` takes for a million users with a car each and a
million tasks on PostgreSQL (goal: under 60 s), with the row rate and the
CPU seconds spent by the command and by PostgreSQL (on a shared machine the
wall time depends on the neighbours; the CPU seconds much less), and as a
ratio to the server inserting the same number of bare rows with INSERT ...
SELECT generate_series in the same run (the floor for any insert on this
machine). Then the first queries after it, to show it left statistics and
indexes ready.

    python -m bench.seed [--users 1000000] [--cars-per-user 1] [--tasks 1000000]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.cpu import reaped_children_seconds
from bench.services import ROOT, fresh_database, postgres_server, flask_env

FIRST_QUERIES = {
    "count of users without cars": "SELECT count(*) FROM users WHERE car_count = 0",
    "users search `q=dana` (trigram index), first 50": "SELECT id FROM users WHERE username ILIKE '%dana%' "
                                                       "OR email ILIKE '%dana%' OR name ILIKE '%dana%' "
                                                       "ORDER BY id LIMIT 50",
    "one user's tasks": "SELECT id FROM tasks WHERE assignee_id = 4242 ORDER BY id LIMIT 50",
}


def baseline_seconds(database_url: str, rows: int) -> float:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_rows (id serial primary key, label varchar(64), "
                                "created_at timestamptz default now())"))
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO bench_rows (label) SELECT 'row ' || g "
                                "FROM generate_series(1, :n) AS g"), {"n": rows})
    elapsed = time.perf_counter() - start
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE bench_rows"))
    engine.dispose()
    return elapsed


def server_cpu_seconds(database_url: str) -> float | None:
    """CPU seconds of the server's finished backends (the postmaster's reaped children),
    when the server runs on this machine and its data directory is readable."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            data = connection.execute(text("SHOW data_directory")).scalar()
        return reaped_children_seconds(int(Path(data, "postmaster.pid").read_text().split()[0]))
    except (OSError, IndexError, ValueError):
        return None
    finally:
        engine.dispose()


def first_queries(database_url: str) -> list[tuple[str, float, float]]:
    """(query, ms, planner's estimate of users / actual) for the first queries after the seed."""
    engine = create_engine(database_url)
    results = []
    with engine.connect() as connection:
        estimate = connection.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'users'")).scalar()
        actual = connection.execute(text("SELECT count(*) FROM users")).scalar()
        for label, sql in FIRST_QUERIES.items():
            start = time.perf_counter()
            connection.execute(text(sql)).all()
            results.append((label, (time.perf_counter() - start) * 1000, estimate / max(actual, 1)))
    engine.dispose()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--cars-per-user", type=int, default=1)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    rows = args.users * (1 + args.cars_per_user) + args.tasks

    with postgres_server() as server, fresh_database(server) as database_url:
        env = flask_env(database_url)
        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        server_before, client_before = server_cpu_seconds(database_url), resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "flask", "seed", "--users", str(args.users),
                        "--cars-per-user", str(args.cars_per_user), "--tasks", str(args.tasks)],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        seed = time.perf_counter() - start
        time.sleep(1)  # for the postmaster to reap the backend that seeded
        client_after, server_after = resource.getrusage(resource.RUSAGE_CHILDREN), server_cpu_seconds(database_url)
        client_cpu = (client_after.ru_utime + client_after.ru_stime) - (client_before.ru_utime + client_before.ru_stime)
        queries = first_queries(database_url)
        baseline = baseline_seconds(database_url, rows)
        load = os.getloadavg()[0]

    print(f"## flask seed on PostgreSQL ({args.users:,} users, {args.users * args.cars_per_user:,} cars, "
          f"{args.tasks:,} tasks = {rows:,} rows; {os.cpu_count()} cores, load average {load:.1f})")
    print("| measurement | seconds | rows/s | ratio to baseline |")
    print("|---|---:|---:|---:|")
    print(f"| baseline: INSERT ... SELECT of {rows:,} bare rows | {baseline:.2f} | {rows / baseline:,.0f} | 1.0 |")
    print(f"| flask seed (process start, COPY, indexes, ANALYZE, one commit) | {seed:.2f} | {rows / seed:,.0f} "
          f"| {seed / baseline:.1f} |")
    print(f"| CPU of the flask seed process | {client_cpu:.2f} | | |")
    if server_before is not None and server_after is not None:
        print(f"| CPU of PostgreSQL for it | {server_after - server_before:.2f} | | |")
    print(f"\ngoal: under 60 s: {'met' if seed < 60 else 'NOT met'}\n")
    print("| first query after the seed | ms | planner's users estimate / actual |")
    print("|---|---:|---:|")
    for label, ms, ratio in queries:
        print(f"| {label} | {ms:.1f} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
