"""Bearer tokens: who may call the API, and what it costs to check."""
import pytest

from best_app.extensions import db
from best_app.models import ApiToken
from tests.api.conftest import assert_problem, count_statements
from tests.conftest import USING_POSTGRES, USING_REDIS, make_user

ENDPOINTS = [("get", "/api/v1/users"), ("get", "/api/v1/cars/1"), ("post", "/api/v1/tasks"),
             ("patch", "/api/v1/users/1"), ("put", "/api/v1/cars/1"), ("delete", "/api/v1/tasks/1"),
             ("get", "/api/v1/users/1/cars")]


@pytest.mark.parametrize("method,url", ENDPOINTS)
def test_no_token_is_401_with_a_challenge(client, method, url):
    response = getattr(client, method)(url, json={})
    assert_problem(response, 401, "Bearer")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer bat_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "bat_x",
                                    "Bearer " + "x" * 300])
def test_bad_tokens_are_401(client, admin_user, header):
    response = client.get("/api/v1/users", headers={"Authorization": header})
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


def test_a_valid_token_reads(client, auth_headers):
    assert client.get("/api/v1/users", headers=auth_headers).status_code == 200


def test_revoking_takes_effect_at_once_even_when_the_token_is_cached(client, runner, auth_headers):
    assert client.get("/api/v1/users", headers=auth_headers).status_code == 200  # now cached
    token_id = db.session.scalar(db.select(ApiToken.id))
    result = runner.invoke(args=["tokens", "revoke", str(token_id)])
    assert result.exit_code == 0, result.output
    assert_problem(client.get("/api/v1/users", headers=auth_headers), 401)


@pytest.mark.skipif(not USING_REDIS, reason="the in-process cache checks tokens in the database "
                                             "every time: see test_in_process_cache_never_caches_tokens")
def test_a_warm_token_costs_no_database_query(client, auth_headers, admin_user):
    client.get(f"/api/v1/users/{admin_user.id}", headers=auth_headers)  # warms token and item
    with count_statements() as statements:
        response = client.get(f"/api/v1/users/{admin_user.id}", headers=auth_headers)
    assert response.status_code == 200 and response.headers["X-Cache"] == "HIT"
    assert statements == []
    # ...and the check does hit the database when the token is cold.
    db.session.remove()
    from best_app.extensions import cache
    cache.clear()
    with count_statements() as statements:
        client.get(f"/api/v1/users/{admin_user.id}", headers=auth_headers)
    assert any("api_tokens" in s for s in statements)


@pytest.mark.skipif(USING_REDIS, reason="only the in-process cache keeps tokens out of the cache")
def test_in_process_cache_never_caches_tokens(client, auth_headers, admin_user):
    # `flask tokens revoke` runs in another process, which cannot reach this
    # process's cache: so every check reads the (embedded) database.
    for _ in range(2):
        with count_statements() as statements:
            client.get(f"/api/v1/users/{admin_user.id}", headers=auth_headers)
        assert any("api_tokens" in s for s in statements)


def test_a_revocation_by_another_process_takes_effect_at_once(client, auth_headers, admin_user):
    """The CLI revokes from its own process, with its own app (and, on the
    embedded default, its own in-process cache)."""
    from best_app import create_app
    from config import TestConfig

    assert client.get("/api/v1/users", headers=auth_headers).status_code == 200  # warm
    token_id = db.session.scalar(db.select(ApiToken.id))
    other_process = create_app(TestConfig())
    other_process.config["SQLALCHEMY_DATABASE_URI"] = db.engine.url.render_as_string(hide_password=False)
    if not USING_POSTGRES:  # share the one in-memory SQLite connection
        other_process.extensions["sqlalchemy"]._app_engines[other_process] = {None: db.engine}
    result = other_process.test_cli_runner().invoke(args=["tokens", "revoke", str(token_id)])
    assert result.exit_code == 0, result.output
    assert_problem(client.get("/api/v1/users", headers=auth_headers), 401)


def test_a_readers_token_may_read_but_not_write(client, reader_headers):
    user = make_user("bob")
    assert client.get(f"/api/v1/users/{user.id}", headers=reader_headers).status_code == 200
    for method, url in [("post", "/api/v1/users"), ("patch", f"/api/v1/users/{user.id}"),
                        ("put", f"/api/v1/users/{user.id}"), ("delete", f"/api/v1/users/{user.id}")]:
        assert_problem(getattr(client, method)(url, json={"is_admin": True}, headers=reader_headers), 403)
    assert db.session.get(type(user), user.id).is_admin is False


def test_losing_admin_rights_removes_write_access_at_once(client, auth_headers, admin_user):
    assert client.get("/api/v1/users", headers=auth_headers).status_code == 200  # token cached as admin
    admin_user.is_admin = False
    db.session.commit()
    assert_problem(client.post("/api/v1/tasks", json={"title": "x"}, headers=auth_headers), 403)


def test_the_session_cookie_is_never_accepted(client, admin_user):
    with client.session_transaction() as session:
        session["_user_id"] = str(admin_user.id)
        session["_fresh"] = True
    assert_problem(client.get("/api/v1/users"), 401)


@pytest.mark.parametrize("url", ["/api/v1/health", "/api/v1/openapi.json", "/api/docs"])
def test_public_endpoints_need_no_token(client, url):
    assert client.get(url).status_code == 200


def test_api_responses_ignore_and_never_set_the_session_cookie(logged_in_client, auth_headers, admin_user):
    """The API opens no session: nothing in its responses depends on the cookie."""
    for url in [f"/api/v1/users/{admin_user.id}", "/api/v1/users", "/api/v1/nowhere", "/api/docs"]:
        response = logged_in_client.get(url, headers=auth_headers)
        assert "Cookie" not in response.headers.get("Vary", ""), url
        assert "Set-Cookie" not in response.headers, url
    # The admin pages still read the same cookie.
    assert logged_in_client.get("/admin/").status_code == 200



def test_last_use_is_recorded_without_turning_every_read_into_a_write(client, auth_headers, admin_user):
    token = db.session.scalar(db.select(ApiToken))
    assert token.last_used_at is None
    client.get("/api/v1/users", headers=auth_headers)
    db.session.expire_all()
    first_use = db.session.get(ApiToken, token.id).last_used_at
    assert first_use is not None
    with count_statements() as statements:
        client.get(f"/api/v1/users/{admin_user.id}", headers=auth_headers)
    assert not any(statement.lstrip().upper().startswith("UPDATE") for statement in statements)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first_use
