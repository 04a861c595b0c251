"""Logging in and out: who gets in, where they land, and how guessing is slowed down."""
import pytest

from tests.admin.conftest import post_form
from tests.conftest import ADMIN_PASSWORD, login, make_user
from tests.helpers import csrf_token


def test_login_page_has_labelled_fields_and_csrf_token(client):
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert b'<label class="form-label" for="login">' in page.data
    assert b'<label class="form-label" for="password">' in page.data
    assert csrf_token(page)


@pytest.mark.parametrize("identifier", ["admin", "admin@example.com", "ADMIN@Example.COM"])
def test_admin_logs_in_with_username_or_email(client, admin_user, identifier):
    response = login(client, identifier, ADMIN_PASSWORD)
    assert response.status_code == 302
    assert response.location == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_wrong_password_is_refused_with_a_message_and_the_login_kept(client, admin_user):
    response = login(client, "admin", "wrong password")
    assert response.status_code == 401
    assert b"Unknown username or email, or wrong password." in response.data
    assert b'value="admin"' in response.data
    assert client.get("/admin/").status_code == 302


def test_unknown_user_gets_the_same_message(client, app):
    response = login(client, "nobody", "whatever123")
    assert response.status_code == 401
    assert b"Unknown username or email, or wrong password." in response.data


def test_non_admin_is_told_why_and_not_logged_in(client, app):
    make_user("bob", password="bobs password")
    response = login(client, "bob", "bobs password")
    assert response.status_code == 403
    assert b"not an administrator" in response.data
    assert client.get("/admin/").status_code == 302


def test_empty_form_shows_field_errors(client, app):
    response = post_form(client, "/admin/login", {"login": "", "password": ""})
    assert response.status_code == 400
    assert response.data.count(b"This field is required.") == 2


@pytest.mark.parametrize("target", ["/admin/users", "/admin/cars?q=volvo&sort=model"])
def test_login_follows_a_local_next(client, admin_user, target):
    page = client.get("/admin/login", query_string={"next": target})
    response = client.post("/admin/login", query_string={"next": target}, data={
        "login": "admin", "password": ADMIN_PASSWORD, "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert response.location == target


@pytest.mark.parametrize("target", [
    "//evil.example/", "/\\evil.example/", "\\\\evil.example", "http://evil.example/admin/",
    "https:evil.example", "javascript:alert(1)", "/\t/evil.example", "evil.example", " //evil.example",
])
def test_login_ignores_a_next_that_leaves_the_site(client, admin_user, target):
    page = client.get("/admin/login", query_string={"next": target})
    response = client.post("/admin/login", query_string={"next": target}, data={
        "login": "admin", "password": ADMIN_PASSWORD, "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert response.location == "/admin/"


def test_guard_sends_anonymous_users_to_login_with_next(client, admin_user):
    response = client.get("/admin/tasks?state=open")
    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=")
    follow = client.post(response.location, data={
        "login": "admin", "password": ADMIN_PASSWORD, "csrf_token": csrf_token(client.get(response.location))})
    assert follow.location == "/admin/tasks?state=open"


def test_login_without_csrf_token_is_refused_with_an_explanation(client, admin_user):
    response = client.post("/admin/login", data={"login": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert b"did not come from this site" in response.data
    assert client.get("/admin/").status_code == 302


def test_logout_needs_post_and_csrf(logged_in_client):
    assert logged_in_client.get("/admin/logout").status_code == 405
    assert logged_in_client.post("/admin/logout").status_code == 400
    assert logged_in_client.get("/admin/").status_code == 200
    response = post_form(logged_in_client, "/admin/logout", {}, form_url="/admin/")
    assert response.status_code == 302 and response.location == "/admin/login"
    assert logged_in_client.get("/admin/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, admin_user):
    response = login(client, "admin", ADMIN_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_losing_admin_rights_ends_the_session(logged_in_client, admin_user):
    from best_app.extensions import db

    admin_user.is_admin = False
    db.session.commit()
    assert logged_in_client.get("/admin/").status_code == 302


# --- throttling --------------------------------------------------------------

def _attempt(client, username, password, address):
    page = client.get("/admin/login", environ_base={"REMOTE_ADDR": address})
    return client.post("/admin/login", environ_base={"REMOTE_ADDR": address}, data={
        "login": username, "password": password, "csrf_token": csrf_token(page)})


def test_failed_logins_are_throttled_per_account(client, admin_user):
    for n in range(5):
        assert _attempt(client, "admin", "wrong", f"10.0.0.{n}").status_code == 401
    # The sixth try is refused even with the right password, from yet another address.
    response = _attempt(client, "admin", ADMIN_PASSWORD, "10.0.0.99")
    assert response.status_code == 429
    assert b"Too many failed login attempts" in response.data
    assert response.headers["Retry-After"]
    assert client.get("/admin/").status_code == 302
    # Another account from a fresh address is unaffected.
    make_user("other", password="other password", is_admin=True)
    assert _attempt(client, "other", "other password", "10.0.1.1").status_code == 302


def test_username_and_email_share_one_account_budget(client, admin_user):
    for n in range(5):
        login = "admin" if n % 2 else "ADMIN@example.com"
        assert _attempt(client, login, "wrong", f"10.0.2.{n}").status_code == 401
    assert _attempt(client, "admin", ADMIN_PASSWORD, "10.0.2.99").status_code == 429


def test_failed_logins_are_throttled_per_address(client, admin_user):
    for n in range(5):
        assert _attempt(client, f"guess{n}", "wrong", "10.9.9.9").status_code == 401
    assert _attempt(client, "admin", ADMIN_PASSWORD, "10.9.9.9").status_code == 429
    assert _attempt(client, "admin", ADMIN_PASSWORD, "10.9.9.10").status_code == 302


def test_successful_logins_are_not_counted(client, admin_user):
    for _ in range(8):
        assert _attempt(client, "admin", ADMIN_PASSWORD, "10.8.8.8").status_code == 302
        post_form(client, "/admin/logout", {}, form_url="/admin/")
