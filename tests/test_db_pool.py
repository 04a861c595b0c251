"""The pool lends a PostgreSQL connection after asking its socket, not the server.

Real connections, ended for real from the server's side (pg_terminate_backend,
as a restart does): nothing of the database is mocked. What is counted is
whether the pool sent the pre-ping's round trip.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text

from best_app.extensions import db
from best_app.models import Task
from tests.conftest import USING_POSTGRES
from tests.test_errors_db import _terminate_backend

pytestmark = pytest.mark.skipif(not USING_POSTGRES, reason="checks PostgreSQL connections")


@pytest.fixture
def pings(app, monkeypatch):
    """How many times the pool asked the server whether a connection is alive."""
    sent = []
    dialect = db.engine.dialect
    original = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: sent.append(1) or original(connection))
    return sent


def _backend_pid() -> int:
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.remove()  # back to the pool
    return pid


def test_the_pre_ping_is_replaced_by_the_socket_check(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    assert db.engine.pool._pre_ping is False
    assert db.engine.pool.dispatch.checkout  # the check that takes its place


def test_a_live_connection_is_lent_again_without_a_round_trip(app, auth_headers, pings):
    client = app.test_client()
    first = _backend_pid()
    for _ in range(3):
        assert client.get("/api/v1/tasks", headers=auth_headers).status_code == 200
    assert _backend_pid() == first  # the same connection, not a new one each time
    assert pings == []


@pytest.mark.parametrize("renewed", [False, True], ids=["the first pool", "a renewed pool"])
def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it(app, auth_headers, pings, renewed):
    if renewed:
        db.engine.dispose()  # tests, forks and a failed check renew the pool: the check must stay on it
    client = app.test_client()
    assert client.post("/api/v1/tasks", json={"title": "before"}, headers=auth_headers).status_code == 201
    ended = _backend_pid()
    _terminate_backend(app.config["SQLALCHEMY_DATABASE_URI"], ended)

    # Without a check the request's first statement would meet the dead
    # connection and answer 503; the pool replaces it first.
    response = client.post("/api/v1/tasks", json={"title": "after"}, headers=auth_headers)
    assert response.status_code == 201, response.get_json()
    assert _backend_pid() != ended
    assert sorted(db.session.scalars(db.select(Task.title))) == ["after", "before"]
    assert pings == []


def test_every_connection_opened_before_a_dead_one_is_renewed(app):
    # A restart ends every connection at once: finding one dead renews the lot
    # (as a failed pre-ping does), so the next checkouts need not each find out.
    def two_pids():
        with db.engine.connect() as one, db.engine.connect() as two:
            return {one.scalar(text("SELECT pg_backend_pid()")), two.scalar(text("SELECT pg_backend_pid()"))}

    before = two_pids()
    _terminate_backend(app.config["SQLALCHEMY_DATABASE_URI"], min(before))
    two_pids()  # finds the dead one (the live one may be lent first, as it is open)
    assert not two_pids() & before
