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


def test_upgrade_and_downgrade_keep_every_row_and_reference(empty_database_url):
    # SQLite copies a table to change a constraint; dropping the old copy with
    # foreign keys enforced would delete or unlink the rows that refer to it.
    assert flask_db(empty_database_url, "upgrade", "0004_admin_sessions").returncode == 0
    engine = create_engine(empty_database_url)
    statements = [
        "INSERT INTO users (id, username, email, is_admin) VALUES (1, 'ann', 'ann@example.com', true)",
        "INSERT INTO cars (model, owner_id) VALUES ('Volvo XC40', 1)",
        "INSERT INTO tasks (title, assignee_id) VALUES ('Check tyres', 1)",
        "INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (1, 'token-hash', CURRENT_TIMESTAMP)",
        ("INSERT INTO admin_sessions (user_id, secret_hash, created_at, expires_at, last_seen_at) "
         "VALUES (1, 'secret-hash', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
    ]
    contents = text("SELECT (SELECT count(*) FROM users), (SELECT owner_id FROM cars), "
                    "(SELECT assignee_id FROM tasks), (SELECT user_id FROM api_tokens), "
                    "(SELECT user_id FROM admin_sessions)")
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
        for step in (("upgrade",), ("downgrade", "0004_admin_sessions")):
            result = flask_db(empty_database_url, *step)
            assert result.returncode == 0, result.stderr
            with engine.connect() as connection:
                assert tuple(connection.execute(contents).one()) == (1, 1, 1, 1, 1), step
    finally:
        engine.dispose()


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="trigram indexes are PostgreSQL's")
def test_search_columns_have_trigram_indexes(empty_database_url):
    # `flask db check` does not compare an index's method or operator class.
    assert flask_db(empty_database_url, "upgrade").returncode == 0
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            definitions = dict(connection.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%\\_trgm'")).all())
    finally:
        engine.dispose()
    assert set(definitions) == {"ix_users_username_trgm", "ix_users_email_trgm", "ix_users_name_trgm",
                                "ix_cars_model_trgm", "ix_tasks_title_trgm"}
    for definition in definitions.values():
        assert "USING gin" in definition and "gin_trgm_ops" in definition, definition
