"""The committed migrations build exactly the models' schema, and undo it.

Runs the real `flask db` commands against an empty database: a SQLite file,
and (when TEST_DATABASE_URL is set) a fresh PostgreSQL database on that server.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

ROOT = Path(__file__).resolve().parent.parent


def flask_db(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLASK_APP": "best_app", "SECRET_KEY": "migration-test", "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "flask", "db", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_upgrade_check_downgrade(empty_database_url):
    upgrade = flask_db(empty_database_url, "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr

    engine = create_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"users", "cars", "tasks", "api_tokens", "alembic_version"} <= tables
        with engine.begin() as connection:  # the case-insensitive email index exists
            insert = text("INSERT INTO users (username, email) VALUES (:u, :e)")
            connection.execute(insert, {"u": "one", "e": "Same@Example.com"})
            with pytest.raises(IntegrityError):
                connection.execute(insert, {"u": "two", "e": "same@example.com"})
            connection.rollback()

        check = flask_db(empty_database_url, "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr

        downgrade = flask_db(empty_database_url, "downgrade", "base")
        assert downgrade.returncode == 0, downgrade.stderr
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
