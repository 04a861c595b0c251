"""CSV export speed and memory: every task of a large list, streamed.

Fills --sizes tasks in turn (INSERT ... SELECT generate_series, see
bench.csv_common) and exports them all with GET /api/v1/tasks?format=csv
through the WSGI app in process, reading the streamed body as a client would
(no network). Reports rows/s and, to show memory stays flat whatever the
size, the growth of the process's resident memory while streaming and, in a
second run under tracemalloc, the peak of Python allocations. Baseline, same
run: PostgreSQL's own `COPY tasks TO STDOUT WITH CSV HEADER` read through
psycopg2 (no Python per row at all).

Goal: at least 50,000 rows/s at a million rows, memory growth about the same
at every size.

    python -m bench.export [--sizes 100000,1000000] [--database-url URL]
"""
from __future__ import annotations

import argparse
import io
import sys
import time
import tracemalloc

from bench.csv_common import app_for, bench_database, fill_tasks, token

GOAL_ROWS_PER_S = 50_000
PAGE = 4096


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def export_once(client, headers: dict, traced: bool) -> dict:
    rss_start = peak_rss = rss_bytes()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    response = client.get("/api/v1/tasks?format=csv", headers=headers, buffered=False)
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\r\n")
        peak_rss = max(peak_rss, rss_bytes())
    response.close()
    elapsed = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else None
    if traced:
        tracemalloc.stop()
    return {"seconds": elapsed, "bytes": size, "lines": lines, "rss_growth": peak_rss - rss_start,
            "traced_peak": traced_peak}


def copy_baseline(database_url: str) -> float:
    import psycopg2

    connection = psycopg2.connect(database_url)
    sink = io.BytesIO()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.copy_expert("COPY (SELECT id, title, description, done, assignee_id, created_at, updated_at, "
                           "version FROM tasks ORDER BY id) TO STDOUT WITH CSV HEADER", sink)
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="task counts to export, comma-separated")
    parser.add_argument("--database-url", help="use this database (migrated, bench admin created) as it is")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    results = []
    with bench_database(args.database_url) as database_url:
        headers = {"Authorization": f"Bearer {token(database_url)}"}
        for size in sizes:
            fill_tasks(database_url, size)
            app = app_for(database_url)
            client = app.test_client()
            export_once(client, headers, traced=False)  # warm: plans, pages in the buffer cache
            timed = export_once(client, headers, traced=False)
            traced = export_once(client, headers, traced=True)
            baseline = copy_baseline(database_url)
            rows = timed["lines"] - 1  # CRLF ends each row; the descriptions break lines with LF
            assert rows == size, (rows, size)
            results.append((size, timed, traced, baseline))
            print(f"exported {size:,} in {timed['seconds']:.1f} s", file=sys.stderr, flush=True)

    print("## CSV export of every task, GET /api/v1/tasks?format=csv on PostgreSQL (in process, streamed)")
    print("| tasks | MB | seconds | rows/s | COPY baseline s | time / baseline | RSS growth MB | "
          "tracemalloc peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    missed = False
    for size, timed, traced, baseline in results:
        rate = size / timed["seconds"]
        print(f"| {size:,} | {timed['bytes'] / 1e6:.0f} | {timed['seconds']:.2f} | {rate:,.0f} | {baseline:.2f} | "
              f"{timed['seconds'] / baseline:.1f} | {timed['rss_growth'] / 1e6:.1f} | "
              f"{traced['traced_peak'] / 1e6:.1f} |")
        missed |= size >= 1_000_000 and rate < GOAL_ROWS_PER_S
    print(f"\ngoal: at least {GOAL_ROWS_PER_S:,} rows/s at a million rows: {'MISSED' if missed else 'met'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
