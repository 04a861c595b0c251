"""Fixtures: a fresh database and cache for every test.

By default the tests run on in-memory SQLite and the in-process cache. Set
TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL to run the very same tests
against real servers; the schema is then created once per session and every
test starts from empty tables and an empty cache.
"""
from __future__ import annotations

import os

import pytest
from flask import g, request_started
from sqlalchemy import text

from best_app import create_app
from best_app.extensions import cache, db
from best_app.models import ApiToken, Car, Task, User
from config import TestConfig

USING_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgresql", "postgres:"))
USING_REDIS = bool(os.environ.get("TEST_REDIS_URL"))
ADMIN_PASSWORD = "correct horse battery"


def _reset_postgres() -> None:
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture(scope="session")
def _postgres_schema():
    """Create the schema once per session on PostgreSQL."""
    if not USING_POSTGRES:
        yield
        return
    app = create_app(TestConfig())
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _forget_request_state(sender, **extra):
    g.pop("_login_user", None)
    g.pop("csrf_token", None)  # Flask-WTF's token for this browser's session
    g.pop("request_id", None)
    g.pop("history_actor", None)


@pytest.fixture
def app(_postgres_schema):
    app = create_app(TestConfig())
    # The app context below stays open for the whole test and each request
    # reuses it, so `g` (where Flask-Login caches the current user) would
    # outlive a request. In production every request starts clean; so must
    # each request here, or a logout or a lost admin flag goes unseen.
    request_started.connect(_forget_request_state, app)
    with app.app_context():
        if USING_POSTGRES:
            _reset_postgres()
        else:
            db.create_all()
        cache.clear()
        yield app
        db.session.remove()
        if not USING_POSTGRES:
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def empty_database_url(tmp_path):
    """The URL of an empty database: a SQLite file, or a fresh database on the
    TEST_DATABASE_URL PostgreSQL server."""
    from tests.helpers import fresh_postgres_database

    if not USING_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with fresh_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
        yield url


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def control():
    """A Redis client of the test's own, to look at or disturb the shared cache (TEST_REDIS_URL)."""
    import redis

    client = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
    yield client
    client.close()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_user(username: str = "alice", *, email: str | None = None, password: str | None = None,
              is_admin: bool = False, role: str = "employee", name: str | None = None) -> User:
    user = User(username=username, email=email or f"{username}@example.com",
                name=name if name is not None else username.title(), role=role, is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_car(owner: User, model: str = "Volvo XC40") -> Car:
    car = Car(model=model, owner=owner)
    db.session.add(car)
    db.session.commit()
    return car


def make_task(title: str = "Check tyres", assignee: User | None = None, done: bool = False) -> Task:
    task = Task(title=title, assignee=assignee, done=done)
    db.session.add(task)
    db.session.commit()
    return task


@pytest.fixture
def admin_user(app) -> User:
    return make_user("admin", password=ADMIN_PASSWORD, is_admin=True)


@pytest.fixture
def api_token(admin_user) -> str:
    """A bearer token secret belonging to an admin."""
    _token, secret = ApiToken.issue(admin_user, name="tests")
    db.session.commit()
    return secret


@pytest.fixture
def auth_headers(api_token) -> dict:
    return {"Authorization": f"Bearer {api_token}"}


@pytest.fixture
def logged_in_client(client, admin_user):
    """A test client with an admin logged in through the real login form."""
    login(client, admin_user.username, ADMIN_PASSWORD)
    return client


def login(client, username: str, password: str):
    """Log in through /admin/login, with the form's CSRF token."""
    from tests.helpers import csrf_token

    page = client.get("/admin/login")
    return client.post("/admin/login", data={"login": username, "password": password,
                                             "csrf_token": csrf_token(page)})
