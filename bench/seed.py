"""How long `flask seed` takes for 100,000 users with their cars and tasks on
PostgreSQL, as a ratio to the server inserting the same number of bare rows
with INSERT ... SELECT generate_series in the same run (the floor for any
client-driven insert on this machine).

    python -m bench.seed [--users 100000] [--cars-per-user 2] [--tasks 100000]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

from sqlalchemy import create_engine, text

from bench.services import ROOT, fresh_database, postgres_server, flask_env


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--cars-per-user", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args(argv)
    rows = args.users * (1 + args.cars_per_user) + args.tasks

    with postgres_server() as server, fresh_database(server) as database_url:
        env = flask_env(database_url)
        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "flask", "seed", "--users", str(args.users),
                        "--cars-per-user", str(args.cars_per_user), "--tasks", str(args.tasks)],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        seed = time.perf_counter() - start
        baseline = baseline_seconds(database_url, rows)

    print(f"## flask seed on PostgreSQL ({args.users:,} users, {args.users * args.cars_per_user:,} cars, "
          f"{args.tasks:,} tasks = {rows:,} rows)")
    print("| measurement | seconds | ratio to baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: INSERT ... SELECT of {rows:,} bare rows | {baseline:.2f} | 1.0 |")
    print(f"| flask seed (process start, bulk INSERTs, one commit) | {seed:.2f} | {seed / baseline:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
