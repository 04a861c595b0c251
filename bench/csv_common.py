"""What the CSV benchmarks share: a PostgreSQL database with users and tasks
filled by SQL (INSERT ... SELECT generate_series: a million tasks in seconds,
where `flask seed` takes minutes), an admin's token, and the app in process."""
from __future__ import annotations

import contextlib
import sys

from sqlalchemy import create_engine, text

from bench.scale import ADMIN, create_admin, flask, vacuum_analyze
from bench.services import flask_env, fresh_database, postgres_server

USERS = 1_000
FILL_USERS = """
INSERT INTO users (username, email, name, role, is_admin)
SELECT 'user.' || i, 'user.' || i || '@example.com', 'User ' || i, 'employee', false
FROM generate_series(1, :count) AS i
"""
# Every 100th title starts with '=' (escaped on export), every 10th task has a
# description with quotes, a comma and a line break, a fifth are unassigned.
FILL_TASKS = """
INSERT INTO tasks (title, description, done, assignee_id)
SELECT CASE WHEN i % 100 = 0 THEN '=SUM(A' || i || ')' ELSE 'Task number ' || i END,
       CASE WHEN i % 10 = 0 THEN 'Said "hello", then' || chr(10) || 'left' END,
       i % 3 = 0,
       CASE WHEN i % 5 = 0 THEN NULL ELSE (SELECT min(id) FROM users) + i % :users END
FROM generate_series(:start, :stop) AS i
"""


@contextlib.contextmanager
def bench_database(database_url: str | None = None):
    """A migrated database with USERS users and the bench admin; yields its URL."""
    if database_url:
        yield database_url
        return
    with postgres_server() as server, fresh_database(server) as url:
        flask(flask_env(url), "db", "upgrade")
        create_admin(url)
        execute(url, FILL_USERS, count=USERS)
        yield url


def execute(database_url: str, sql: str, **params) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(sql), params)
    engine.dispose()


def scalar(database_url: str, sql: str):
    engine = create_engine(database_url)
    with engine.connect() as connection:
        value = connection.execute(text(sql)).scalar()
    engine.dispose()
    return value


def fill_tasks(database_url: str, total: int) -> None:
    """Top the tasks up to `total` rows, then VACUUM ANALYZE."""
    have = scalar(database_url, "SELECT count(*) FROM tasks")
    if have < total:
        print(f"filling tasks {have:,} -> {total:,} ...", file=sys.stderr, flush=True)
        execute(database_url, FILL_TASKS, start=have + 1, stop=total, users=USERS)
        vacuum_analyze(database_url)


def token(database_url: str) -> str:
    return flask(flask_env(database_url), "tokens", "create", "--user", ADMIN[0]).strip()


def app_for(database_url: str):
    from best_app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                       "CACHE_TYPE": "SimpleCache", "LOG_LEVEL": "WARNING"})
