"""A read-only API request that misses the cache sends its SELECT without BEGIN and ROLLBACK.

Observed on the real driver: whether psycopg2 was in autocommit (no BEGIN of
its own, no transaction to roll back) when each statement left, and that
writes and a read after a token check keep their transaction.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event

from best_app.db_reads import without_transaction
from best_app.extensions import db
from best_app.models import Task
from tests.conftest import USING_POSTGRES, make_task

pytestmark = pytest.mark.skipif(not USING_POSTGRES, reason="psycopg2's own BEGIN")


@pytest.fixture
def statements(app):
    """(first words of each statement, whether the connection was in autocommit) as sent."""
    sent = []

    def note(conn, cursor, statement, parameters, context, executemany):
        sent.append((" ".join(statement.split()[:3]), conn.connection.dbapi_connection.autocommit))

    event.listen(db.engine, "before_cursor_execute", note)
    yield sent
    event.remove(db.engine, "before_cursor_execute", note)


def _warm_token(client, headers):
    # The token check's own read (and its note of the token's use) is done and cached.
    assert client.get("/api/v1/tasks?limit=1", headers=headers).status_code == 200


def test_a_list_read_that_misses_the_cache_runs_outside_a_transaction(app, auth_headers, statements):
    make_task("one")
    db.session.commit()
    client = app.test_client()
    _warm_token(client, auth_headers)
    statements.clear()
    assert client.get("/api/v1/tasks?limit=5", headers=auth_headers).json["items"]
    reads = [autocommit for words, autocommit in statements if words.startswith("SELECT")]
    assert reads and all(reads), statements


def test_an_item_read_that_misses_the_cache_runs_outside_a_transaction(app, auth_headers, statements):
    task_id = make_task("one").id
    db.session.remove()  # this test's session is the requests' (one app context): start empty
    client = app.test_client()
    _warm_token(client, auth_headers)
    statements.clear()
    assert client.get(f"/api/v1/tasks/{task_id}", headers=auth_headers).status_code == 200
    assert statements and all(autocommit for _words, autocommit in statements), statements


def test_writes_after_such_a_read_keep_their_transaction(app, auth_headers, statements):
    client = app.test_client()
    _warm_token(client, auth_headers)
    assert client.get("/api/v1/tasks?limit=7", headers=auth_headers).status_code == 200
    statements.clear()
    # The same pooled connection, given back at its usual isolation level.
    assert client.post("/api/v1/tasks", json={"title": "two"}, headers=auth_headers).status_code == 201
    writes = [autocommit for words, autocommit in statements if words.startswith(("INSERT", "UPDATE"))]
    assert len(writes) >= 2 and not any(writes), statements  # the row and its change log, in one transaction


def test_a_read_in_a_request_that_has_begun_a_transaction_keeps_it(app, statements):
    # Whatever ran in a transaction before the read (a token check that went to the
    # database, say) keeps it: the rest of the request is not switched under it.
    with app.test_request_context("/api/v1/tasks", method="GET"):
        db.session.execute(db.select(db.literal(1)))
        with without_transaction():
            db.session.execute(db.select(Task.id))
    assert statements and not any(autocommit for _words, autocommit in statements), statements


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_a_request_that_may_write_keeps_its_transaction(app, statements, method):
    with app.test_request_context("/api/v1/tasks", method=method):
        with without_transaction():
            db.session.execute(db.select(Task.id))
    assert statements and not any(autocommit for _words, autocommit in statements), statements


def test_statements_after_the_read_run_in_a_transaction_again(app, statements):
    with app.test_request_context("/api/v1/tasks", method="GET"):
        with without_transaction():
            db.session.execute(db.select(Task.id))
        db.session.execute(db.select(Task.title))
    assert [autocommit for _words, autocommit in statements] == [True, False], statements


def test_a_counted_list_counts_outside_a_transaction_too(app, auth_headers, statements):
    client = app.test_client()
    _warm_token(client, auth_headers)
    statements.clear()
    assert client.get("/api/v1/tasks?limit=5&count=true", headers=auth_headers).json["count"]["total"]["value"] == 0
    assert len(statements) >= 2 and all(autocommit for _words, autocommit in statements), statements


def test_a_change_waiting_in_the_session_is_never_committed_by_a_read(app, statements):
    # A read autoflushes the session first; in autocommit that INSERT would be
    # committed at once, where the request's end would have rolled it back.
    with app.test_request_context("/api/v1/tasks", method="GET"):
        db.session.add(Task(title="pending, never committed"))
        with without_transaction():
            db.session.execute(db.select(Task.id))
        db.session.rollback()
    assert statements and not any(autocommit for _words, autocommit in statements), statements
    assert db.session.scalars(db.select(Task.title)).all() == []
