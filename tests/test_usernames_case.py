"""Usernames are one name whatever their case: unique, logged in with and referred to in any case."""
import re

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from best_app.extensions import db, limiter
from best_app.models import ApiToken, Car, User
from tests.admin.conftest import post_form
from tests.api.conftest import assert_problem
from tests.conftest import ADMIN_PASSWORD, login, make_user
from tests.helpers import csrf_token
from tests.test_migrations import flask_db


@pytest.fixture(autouse=True)
def _fresh_login_throttle(app):
    # Failed-login counters outlive a test when the limiter's storage is Redis.
    limiter.reset()


def test_api_refuses_a_username_taken_in_another_case_with_409_naming_it(client, auth_headers):
    make_user("Jane")
    body = {"username": "jane", "email": "other@example.com"}
    problem = assert_problem(client.post("/api/v1/users", json=body, headers=auth_headers), 409, "username")
    assert set(problem["errors"]) == {"username"}
    other = make_user("john")
    problem = assert_problem(client.patch(f"/api/v1/users/{other.id}", json={"username": "JANE"},
                                          headers=auth_headers), 409, "username")
    assert set(problem["errors"]) == {"username"}
    # Changing the case of one's own username is not a conflict.
    jane = db.session.scalar(select(User).where(User.username == "Jane"))
    response = client.patch(f"/api/v1/users/{jane.id}", json={"username": "jane"}, headers=auth_headers)
    assert response.status_code == 200, response.get_json()


def test_admin_form_shows_a_username_taken_in_another_case_on_the_field(logged_in_client):
    make_user("Jane")
    response = post_form(logged_in_client, "/admin/users/new",
                         {"username": "jane", "email": "jane2@example.com", "name": "", "role": "employee",
                          "password": ""})
    assert response.status_code == 400
    assert re.search(r'id="username-errors"[^>]*><div>This username is already taken.',
                     response.get_data(as_text=True))
    assert db.session.scalar(select(User).where(User.username == "jane")) is None


def test_the_database_refuses_a_username_in_another_case(app):
    make_user("Jane")
    with pytest.raises(IntegrityError):
        db.session.execute(text("INSERT INTO users (username, email) VALUES ('jane', 'jane2@example.com')"))
    db.session.rollback()


def test_login_with_the_username_in_another_case(client, admin_user):
    response = login(client, "ADMIN", ADMIN_PASSWORD)
    assert response.status_code == 302 and response.location == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_login_field_is_not_capitalised_or_corrected_by_phones(client):
    field = re.search(r'<input[^>]*id="login"[^>]*>', client.get("/admin/login").get_data(as_text=True)).group(0)
    for attribute in ('autocapitalize="off"', 'autocorrect="off"', 'spellcheck="false"'):
        assert attribute in field


def test_failed_logins_in_any_case_share_the_accounts_budget(client, admin_user):
    def attempt(username, password, address):
        page = client.get("/admin/login", environ_base={"REMOTE_ADDR": address})
        return client.post("/admin/login", environ_base={"REMOTE_ADDR": address}, data={
            "login": username, "password": password, "csrf_token": csrf_token(page)})

    for n, name in enumerate(["ADMIN", "Admin", "aDmIn", "ADMIN", "Admin"]):
        assert attempt(name, "wrong", f"10.0.3.{n}").status_code == 401
    assert attempt("admin", ADMIN_PASSWORD, "10.0.3.99").status_code == 429


def test_owner_typed_in_another_case_is_found(logged_in_client):
    jane = make_user("jane")
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "Fiat 500", "owner_id": "JANE"})
    assert response.status_code == 302
    assert db.session.scalar(select(Car.owner_id)) == jane.id


def test_cli_finds_a_user_by_username_in_another_case(runner):
    jane = make_user("jane")
    result = runner.invoke(args=["tokens", "create", "--user", "JaNe"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(ApiToken.user_id)) == jane.id


# --- the migration -------------------------------------------------------------

def _database_at_0004(url: str, usernames: list[str]) -> None:
    upgrade = flask_db(url, "upgrade", "0004_admin_sessions")
    assert upgrade.returncode == 0, upgrade.stderr
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for n, username in enumerate(usernames):
                connection.execute(text("INSERT INTO users (username, email) VALUES (:u, :e)"),
                                   {"u": username, "e": f"user{n}@example.com"})
            connection.execute(text("INSERT INTO api_tokens (user_id, token_hash, created_at) "
                                    "SELECT id, 'hash-' || username, CURRENT_TIMESTAMP FROM users"))
    finally:
        engine.dispose()


def _scalar(url: str, sql: str):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_migration_refuses_usernames_that_differ_only_in_case_and_names_them(empty_database_url):
    _database_at_0004(empty_database_url, ["Jane", "bob", "jane", "JANE", "Bob", "carol"])
    upgrade = flask_db(empty_database_url, "upgrade")
    assert upgrade.returncode == 1
    output = upgrade.stdout + upgrade.stderr
    assert "Traceback" not in output
    assert "'Jane' (id 1), 'jane' (id 3), 'JANE' (id 4)" in output
    assert "'bob' (id 2), 'Bob' (id 5)" in output
    assert "carol" not in output
    assert "rename" in output
    # Nothing changed: still at 0004, every user and token kept, and the
    # old constraint still in force.
    assert _scalar(empty_database_url, "SELECT version_num FROM alembic_version") == "0004_admin_sessions"
    assert _scalar(empty_database_url, "SELECT count(*) FROM users") == 6
    assert _scalar(empty_database_url, "SELECT count(*) FROM api_tokens") == 6
    engine = create_engine(empty_database_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("INSERT INTO users (username, email) VALUES ('carol', 'c2@example.com')"))
    finally:
        engine.dispose()


def test_migration_succeeds_once_the_clashes_are_renamed(empty_database_url):
    _database_at_0004(empty_database_url, ["Jane", "jane"])
    assert flask_db(empty_database_url, "upgrade").returncode == 1
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE users SET username = 'jane2' WHERE username = 'jane'"))
        upgrade = flask_db(empty_database_url, "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        assert _scalar(empty_database_url, "SELECT count(*) FROM api_tokens") == 2
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("INSERT INTO users (username, email) VALUES ('JANE2', 'j3@example.com')"))
    finally:
        engine.dispose()
