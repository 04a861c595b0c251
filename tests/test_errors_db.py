"""A database that cannot be reached answers 503 with Retry-After; other database errors stay 500.

The failures are real: an app pointed at a port where nothing listens (or a
SQLite file that cannot be opened), a SQLite file locked by another
connection, a PostgreSQL backend terminated before COMMIT, a database with no
tables. Nothing of our own database is mocked.
"""
from __future__ import annotations

import logging
import socket
import sqlite3
import threading
import time

import pytest
from sqlalchemy import event, select, text

from best_app import create_app
from best_app.errors import DATABASE_RETRY_AFTER_SECONDS
from best_app.extensions import db
from best_app.models import ApiToken, Task, User
from config import TestConfig as _TestConfig
from tests.conftest import USING_POSTGRES

UNAVAILABLE = "The database is unavailable right now; try again in a moment."


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _app_on(url: str, **settings):
    config = _TestConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    for name, value in settings.items():
        setattr(config, name, value)
    return create_app(config)


@pytest.fixture
def unreachable_app(app, tmp_path):
    """The app with its database gone: nothing listens on the PostgreSQL port,
    or the SQLite file's folder does not exist."""
    if USING_POSTGRES:
        url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/best_app"
    else:
        url = f"sqlite:///{tmp_path / 'gone' / 'best_app.sqlite3'}"
    broken = _app_on(url)
    with broken.app_context():
        yield broken
        db.session.remove()
        db.engine.dispose()


def _assert_unavailable_problem(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert response.get_json() == {"type": "about:blank", "title": "Service Unavailable", "status": 503,
                                   "detail": UNAVAILABLE}


def _logged_once_without_traceback(caplog, path: str):
    ours = [r for r in caplog.records if r.name == "best_app.errors"]
    assert [(r.levelname, r.exc_info) for r in ours] == [("WARNING", None)], ours
    assert path in ours[0].getMessage() and "database unavailable" in ours[0].getMessage()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("method,path", [("GET", "/api/v1/tasks"), ("GET", "/api/v1/users/1"),
                                         ("POST", "/api/v1/tasks"), ("PATCH", "/api/v1/tasks/1")])
def test_api_answers_503_with_retry_after_when_the_database_is_down(unreachable_app, caplog, method, path):
    caplog.set_level(logging.WARNING)
    response = unreachable_app.test_client().open(path, method=method, json={"title": "x"},
                                                  headers={"Authorization": "Bearer some-token"})
    _assert_unavailable_problem(response)
    body = response.get_data(as_text=True)
    assert "127.0.0.1" not in body and "sqlite" not in body.lower()
    _logged_once_without_traceback(caplog, path)


def test_pages_answer_the_503_page_when_the_database_is_down(logged_in_client, unreachable_app, caplog):
    # An admin's session, signed with the same key, arriving while the database is down.
    client = unreachable_app.test_client()
    client.set_cookie("session", logged_in_client.get_cookie("session").value)
    caplog.set_level(logging.WARNING)
    response = client.get("/admin/tasks")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert "Temporarily unavailable" in response.get_data(as_text=True)
    _logged_once_without_traceback(caplog, "/admin/tasks")


def test_a_login_attempt_answers_503_when_the_database_is_down(unreachable_app):
    from tests.helpers import csrf_token

    client = unreachable_app.test_client()
    form = client.get("/admin/login")  # renders without the database
    response = client.post("/admin/login", data={"login": "admin", "password": "whatever",
                                                 "csrf_token": csrf_token(form)})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)


def test_health_names_the_database_when_it_is_down(unreachable_app, caplog):
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    response = unreachable_app.test_client().get("/api/v1/health")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.get_json() == {"status": "fail", "checks": {"database": "fail", "cache": "ok"}}
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert [bool(r.exc_info) for r in caplog.records if r.name == "best_app.api.health"] == [False]


@pytest.mark.skipif(not USING_POSTGRES, reason="a server that accepts and never answers is a PostgreSQL case")
def test_health_is_bounded_by_the_connect_timeout_when_the_database_hangs(app):
    # A socket that accepts connections (the kernel does, up to the backlog)
    # but never answers libpq's startup message: a hung database server.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    hung = _app_on(f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/best_app")
    outcome = {}

    def probe():
        with hung.app_context():
            started = time.monotonic()
            response = hung.test_client().get("/api/v1/health")
            outcome["seconds"] = time.monotonic() - started
            outcome["checks"] = response.get_json()["checks"]
            db.session.remove()
            db.engine.dispose()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(8)
    silent.close()  # releases a probe that hangs, so a failure does not hold up the suite
    thread.join(5)
    assert outcome.get("checks") == {"database": "fail", "cache": "ok"}, outcome
    assert outcome["seconds"] < 4  # DB_CONNECT_TIMEOUT (2 s), not the system's TCP timeout


def test_other_database_errors_stay_500(empty_database_url, caplog):
    # No tables at all: "no such table" (SQLite's OperationalError) or
    # UndefinedTable (PostgreSQL) is a bug in how we were deployed, not an outage.
    caplog.set_level(logging.WARNING)
    broken = _app_on(empty_database_url)
    with broken.app_context():
        response = broken.test_client().get("/api/v1/tasks", headers={"Authorization": "Bearer some-token"})
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert [r.exc_info is not None for r in caplog.records if r.name == "best_app.errors"] == [True]


def test_no_pooled_connection_in_time_answers_503(app, tmp_path, caplog):
    # Every connection busy (here: the only one, held by the test) for longer
    # than the pool's timeout: the request is turned away, not queued forever.
    url = app.config["SQLALCHEMY_DATABASE_URI"] if USING_POSTGRES else f"sqlite:///{tmp_path / 'pool.sqlite3'}"
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"], pool_size=1, max_overflow=0, pool_timeout=0.2)
    busy = _app_on(url, SQLALCHEMY_ENGINE_OPTIONS=options)
    with busy.app_context():
        held = db.engine.connect()
        caplog.set_level(logging.WARNING)
        try:
            response = busy.test_client().get("/api/v1/tasks", headers={"Authorization": "Bearer some-token"})
        finally:
            held.close()
            db.session.remove()
            db.engine.dispose()
    _assert_unavailable_problem(response)
    _logged_once_without_traceback(caplog, "/api/v1/tasks")


def _token_for_admin() -> str:
    admin = User(username="admin", email="admin@example.com", name="Admin", is_admin=True)
    admin.set_password("correct horse battery")
    db.session.add(admin)
    db.session.flush()
    _token, secret = ApiToken.issue(admin, name="tests")
    db.session.commit()
    return secret


def _titles() -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(Task.title)))


@pytest.mark.skipif(USING_POSTGRES, reason="SQLite's file locking")
def test_a_locked_sqlite_database_answers_503_and_applies_nothing(app, tmp_path, caplog):
    path = tmp_path / "locked.sqlite3"
    # A short busy timeout: how long a write waits for a lock before giving up.
    locked = _app_on(f"sqlite:///{path}", SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.2}})
    with locked.app_context():
        db.create_all()
        headers = {"Authorization": f"Bearer {_token_for_admin()}"}
        client = locked.test_client()
        assert client.post("/api/v1/tasks", json={"title": "before"}, headers=headers).status_code == 201

        # Another process reading: it holds a shared lock, so our INSERT goes
        # through but our COMMIT cannot take the exclusive lock it needs.
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM tasks").fetchone()
        caplog.set_level(logging.WARNING)
        try:
            response = client.post("/api/v1/tasks", json={"title": "during"}, headers=headers)
        finally:
            reader.execute("COMMIT")
            reader.close()
        _assert_unavailable_problem(response)
        _logged_once_without_traceback(caplog, "/api/v1/tasks")
        assert "database is locked" in caplog.text

        assert _titles() == ["before"]  # the INSERT was rolled back, not left for a later commit
        assert client.post("/api/v1/tasks", json={"title": "after"}, headers=headers).status_code == 201
        assert _titles() == ["after", "before"]
        db.session.remove()
        db.engine.dispose()


def _terminate_backend(url: str, pid: int) -> None:
    """Cut a PostgreSQL connection from the server's side, as a restart does, and wait until it is gone."""
    from sqlalchemy import create_engine

    killer = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with killer.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            deadline = time.monotonic() + 5
            while other.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                assert time.monotonic() < deadline, "the backend did not exit"
                time.sleep(0.01)
    finally:
        killer.dispose()


@pytest.mark.skipif(not USING_POSTGRES, reason="terminates a PostgreSQL backend")
def test_a_connection_lost_before_commit_answers_503_and_applies_nothing(app, auth_headers, caplog):
    client = app.test_client()
    assert client.post("/api/v1/tasks", json={"title": "before"}, headers=auth_headers).status_code == 201
    inserted = []

    def note_insert(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO TASKS"):
            inserted.append(conn.connection.dbapi_connection.get_backend_pid())

    def kill_before_commit(conn):
        # The INSERT has run in this transaction; the server now loses the
        # connection (as in a restart) before COMMIT reaches it.
        if inserted:
            _terminate_backend(app.config["SQLALCHEMY_DATABASE_URI"], inserted.pop())

    event.listen(db.engine, "before_cursor_execute", note_insert)
    event.listen(db.engine, "commit", kill_before_commit)
    caplog.set_level(logging.WARNING)
    try:
        response = client.post("/api/v1/tasks", json={"title": "during"}, headers=auth_headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", note_insert)
        event.remove(db.engine, "commit", kill_before_commit)
    _assert_unavailable_problem(response)
    _logged_once_without_traceback(caplog, "/api/v1/tasks")

    assert _titles() == ["before"]
    # The pool replaces the lost connection: the next request succeeds.
    assert client.post("/api/v1/tasks", json={"title": "after"}, headers=auth_headers).status_code == 201
    assert _titles() == ["after", "before"]


@pytest.mark.skipif(not USING_POSTGRES, reason="terminates a PostgreSQL backend")
def test_a_connection_lost_after_the_view_keeps_the_response(app, auth_headers):
    # The view has read what it needed; the server goes away before the
    # request ends. The response is complete and correct: it must be sent,
    # not replaced by an error from closing the session on a dead connection.
    task_id = app.test_client().post("/api/v1/tasks", json={"title": "kept"}, headers=auth_headers).json["id"]
    own_contexts = _app_on(app.config["SQLALCHEMY_DATABASE_URI"])  # a fresh app context per request, as served
    with own_contexts.app_context():
        engine = db.engine
    read = []

    def kill_after_read(conn, cursor, statement, parameters, context, executemany):
        if not read and "FROM tasks" in statement:
            read.append(True)
            _terminate_backend(app.config["SQLALCHEMY_DATABASE_URI"],
                               conn.connection.dbapi_connection.get_backend_pid())

    event.listen(engine, "after_cursor_execute", kill_after_read)
    try:
        response = own_contexts.test_client().get(f"/api/v1/tasks/{task_id}", headers=auth_headers)
    finally:
        event.remove(engine, "after_cursor_execute", kill_after_read)
        engine.dispose()
    assert read
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["title"] == "kept"
