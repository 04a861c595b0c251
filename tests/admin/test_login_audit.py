"""The login audit trail: every kind of event and refusal, with the client's
address and user agent, in the transaction of what it records; never a
secret; the admin page that lists, filters and pages it."""
import json
import logging
import re

import pytest
from sqlalchemy import select, text

from best_app import audit
from best_app.extensions import db
from best_app.models import AdminSession, ApiToken, LoginEvent, User
from best_app.models.login_event import KINDS
from tests.admin.conftest import post_form
from tests.conftest import ADMIN_PASSWORD, make_user
from tests.helpers import csrf_token

ADDRESS = "203.0.113.7"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AuditTest/1.0"
OTHER_PASSWORD = "another good password"


def events(**where) -> list[LoginEvent]:
    db.session.expire_all()
    return db.session.scalars(select(LoginEvent).filter_by(**where).order_by(LoginEvent.id)).all()


def browser(app, address: str = ADDRESS, agent: str = AGENT):
    """A test client whose every request comes from `address` with `agent`."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent})
    return client


def attempt(client, login: str, password: str):
    page = client.get("/admin/login")
    return client.post("/admin/login", data={"login": login, "password": password, "csrf_token": csrf_token(page)})


def logged_in(app, username: str = "admin", password: str = ADMIN_PASSWORD, **kwargs):
    client = browser(app, **kwargs)
    assert attempt(client, username, password).status_code == 302
    return client


def assert_from_client(event: LoginEvent, address: str = ADDRESS, agent: str = AGENT) -> None:
    assert (event.address, event.user_agent) == (address, agent)


def audit_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "best_app.audit"]


# --- logins, logouts and refusals ---------------------------------------------

def test_a_login_and_a_logout_are_recorded_with_address_and_user_agent(app, admin_user):
    client = logged_in(app, "ADMIN@example.com")
    [login] = events()
    assert (login.kind, login.reason, login.user_id, login.login, login.actor_id) == \
        ("login", None, admin_user.id, "ADMIN@example.com", None)
    assert_from_client(login)
    assert login.occurred_at.tzinfo is not None

    assert post_form(client, "/admin/logout", {}, form_url="/admin/").status_code == 302
    login, logout = events()
    assert (logout.kind, logout.user_id, logout.login) == ("logout", admin_user.id, "admin")
    assert_from_client(logout)


@pytest.mark.parametrize("login, password, status, reason, account", [
    ("ghost", ADMIN_PASSWORD, 401, "unknown_account", None),
    ("admin", "wrong password", 401, "wrong_password", "admin"),
    ("bob@example.com", "bobs password", 403, "not_admin", "bob"),
])
def test_a_refused_login_is_recorded_with_its_reason(app, admin_user, login, password, status, reason, account):
    bob = make_user("bob", password="bobs password")
    client = browser(app)
    assert attempt(client, login, password).status_code == status
    [event] = events()
    owner = {"admin": admin_user.id, "bob": bob.id}.get(account)
    assert (event.kind, event.reason, event.user_id, event.login) == ("login_failed", reason, owner, login)
    assert_from_client(event)
    assert db.session.scalar(select(AdminSession)) is None  # and it is still refused


def test_an_attempt_the_form_refuses_is_not_a_login_attempt(app, admin_user):
    client = browser(app)
    page = client.get("/admin/login")
    response = client.post("/admin/login", data={"login": "admin", "password": "", "csrf_token": csrf_token(page)})
    assert response.status_code == 400
    assert events() == []


def test_throttled_attempts_are_recorded_once_a_minute_per_address_and_name(app, admin_user):
    for n in range(5):
        assert attempt(browser(app, f"10.0.0.{n}"), "admin", "wrong").status_code == 401
    assert [e.reason for e in events()] == ["wrong_password"] * 5
    throttled = browser(app, "10.0.0.99", "Throttled/2.0")
    assert attempt(throttled, "admin", ADMIN_PASSWORD).status_code == 429
    event = events()[-1]
    assert (event.kind, event.reason, event.user_id, event.login) == ("login_failed", "throttled", admin_user.id,
                                                                       "admin")
    assert_from_client(event, "10.0.0.99", "Throttled/2.0")
    # A client that keeps trying adds nothing more for a while...
    for _ in range(3):
        assert attempt(throttled, "admin", ADMIN_PASSWORD).status_code == 429
    assert len(events(reason="throttled")) == 1
    # ...but another address, or another name, is news.
    assert attempt(browser(app, "10.0.0.98"), "ADMIN", "x").status_code == 429
    assert attempt(throttled, "admin@example.com", "x").status_code == 429
    assert [(e.address, e.login) for e in events(reason="throttled")] == [
        ("10.0.0.99", "admin"), ("10.0.0.98", "ADMIN"), ("10.0.0.99", "admin@example.com")]


def test_names_and_user_agents_are_cleaned_and_cut(app, admin_user):
    # Only the throttle sees raw input (the form refuses control characters).
    for n in range(5):
        attempt(browser(app), f"guess{n}", "wrong")
    forged = "admin\r\n\x1b[2J\u202e" + "x" * 300
    assert attempt(browser(app, agent="Agent\n" + "a" * 400), forged, "x").status_code == 429
    event = events()[-1]
    assert event.reason == "throttled"
    assert event.login == ("admin[2J" + "x" * 300)[:254]  # the escape and the override are gone
    assert event.user_agent == ("Agent" + "a" * 400)[:256]


def test_a_refusal_that_cannot_be_recorded_is_still_a_refusal_and_is_logged(app, admin_user, caplog):
    db.session.execute(text("ALTER TABLE login_events RENAME TO login_events_away"))
    db.session.commit()
    try:
        caplog.set_level(logging.INFO, logger="best_app.audit")
        assert attempt(browser(app), "admin", "wrong").status_code == 401
        for _ in range(4):
            attempt(browser(app), "admin", "wrong")
        assert attempt(browser(app, "10.1.1.1"), "admin", ADMIN_PASSWORD).status_code == 429
    finally:
        db.session.rollback()
        db.session.execute(text("ALTER TABLE login_events_away RENAME TO login_events"))
        db.session.commit()
    lines = audit_lines(caplog)
    assert [(line["reason"], line["stored"]) for line in lines] == [("wrong_password", False)] * 5 + [
        ("throttled", False)]
    assert lines[0]["address"] == ADDRESS and lines[0]["user_agent"] == AGENT
    assert events() == []


# --- password changes and tokens ------------------------------------------------

def edit_user(client, user: User, **changes):
    db.session.refresh(user)
    data = {"username": user.username, "email": user.email, "name": user.name, "role": user.role,
            "is_admin": "y" if user.is_admin else "", "password": "", "version": str(user.version), **changes}
    return post_form(client, f"/admin/users/{user.id}", data)


def test_password_changes_in_the_admin_pages_name_the_admin_who_made_them(app, admin_user):
    bob = make_user("bob", password="bobs password")
    client = logged_in(app)
    assert edit_user(client, bob, name="Robert").status_code == 302  # no new password: no event
    assert edit_user(client, bob, password=OTHER_PASSWORD).status_code == 302
    assert edit_user(client, admin_user, password=OTHER_PASSWORD).status_code == 302
    changes = events(kind="password_changed")
    assert [(e.user_id, e.login, e.actor_id) for e in changes] == [(bob.id, "bob", admin_user.id),
                                                                    (admin_user.id, "admin", None)]
    for event in changes:
        assert_from_client(event)


def test_a_password_change_through_the_api_names_the_tokens_user(app, client, admin_user, auth_headers):
    erin = make_user("erin", password="first-password")
    response = client.patch(f"/api/v1/users/{erin.id}", json={"name": "Erin"}, headers=auth_headers,
                            environ_base={"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": "script/1"})
    assert response.status_code == 200
    assert events() == []
    response = client.patch(f"/api/v1/users/{erin.id}", json={"password": "second-password"}, headers=auth_headers,
                            environ_base={"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": "script/1"})
    assert response.status_code == 200
    [event] = events()
    assert (event.kind, event.user_id, event.actor_id, event.login) == ("password_changed", erin.id, admin_user.id,
                                                                         "erin")
    assert_from_client(event, ADDRESS, "script/1")


def test_a_password_change_that_rolls_back_records_nothing(app, admin_user, caplog):
    caplog.set_level(logging.INFO, logger="best_app.audit")
    admin_user.set_password(OTHER_PASSWORD)
    db.session.flush()
    assert len(db.session.execute(select(LoginEvent.id)).all()) == 1  # in the same transaction...
    db.session.rollback()
    assert events() == []  # ...so undone with it
    assert audit_lines(caplog) == []


def test_tokens_created_and_revoked_in_the_admin_pages(app, admin_user):
    bob = make_user("bob")
    client = logged_in(app)
    response = post_form(client, "/admin/tokens", {"user_id": "bob", "name": "nightly export"})
    assert response.status_code == 302
    token = db.session.scalar(select(ApiToken))
    for _ in range(2):  # revoking a revoked token changes nothing, and records nothing
        assert post_form(client, f"/admin/tokens/{token.id}/revoke", {}).status_code == 302
    created, revoked = events()[1:]
    assert [(e.kind, e.user_id, e.login, e.actor_id, e.token_id) for e in (created, revoked)] == [
        ("token_created", bob.id, "bob", admin_user.id, token.id),
        ("token_revoked", bob.id, "bob", admin_user.id, token.id)]
    assert_from_client(created)
    assert_from_client(revoked)


def test_a_refused_token_form_records_nothing(app, admin_user):
    client = logged_in(app)
    assert post_form(client, "/admin/tokens", {"user_id": "ghost", "name": "x"}).status_code == 400
    assert [e.kind for e in events()] == ["login"]


def test_nothing_secret_is_stored_or_logged(app, admin_user, caplog):
    caplog.set_level(logging.INFO, logger="best_app.audit")
    client = logged_in(app)
    attempt(browser(app), "admin", "a wrong guess")
    assert edit_user(client, admin_user, password=OTHER_PASSWORD).status_code == 302
    post_form(client, "/admin/tokens", {"user_id": "admin", "name": "n"})
    page = client.get("/admin/tokens").get_data(as_text=True)
    secret = re.search(r'id="new-secret" readonly value="([^"]+)"', page).group(1)
    token = db.session.scalar(select(ApiToken))
    db.session.refresh(admin_user)
    session_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    stored = json.dumps([[str(value) for value in row] for row in db.session.execute(
        select(*LoginEvent.__table__.columns)).all()])
    logged = caplog.text
    assert {e.kind for e in events()} >= {"login", "login_failed", "password_changed", "token_created"}
    for forbidden in (ADMIN_PASSWORD, "a wrong guess", OTHER_PASSWORD, secret, token.token_hash,
                      admin_user.password_hash, session_cookie):
        assert forbidden not in stored and forbidden not in logged


def test_each_event_is_one_json_log_line_after_its_commit(app, admin_user, caplog):
    caplog.set_level(logging.INFO, logger="best_app.audit")
    client = logged_in(app, agent="Evil\nAgent")
    attempt(browser(app), "ghost", "x")
    post_form(client, "/admin/logout", {}, form_url="/admin/")
    records = [r for r in caplog.records if r.name == "best_app.audit"]
    assert all("\n" not in r.getMessage() for r in records)
    login, failed, logout = (json.loads(r.getMessage()) for r in records)
    assert {k: login[k] for k in ("event", "user_id", "login", "address", "user_agent")} == \
        {"event": "login", "user_id": admin_user.id, "login": "admin", "address": ADDRESS, "user_agent": "EvilAgent"}
    assert (failed["event"], failed["reason"], failed["login"]) == ("login_failed", "unknown_account", "ghost")
    assert "user_id" not in failed and logout["event"] == "logout"


def test_events_outlive_the_account(app, admin_user, auth_headers, client):
    carol = make_user("carol", password=OTHER_PASSWORD, is_admin=True)
    logged_in(app, "carol", OTHER_PASSWORD)
    assert client.delete(f"/api/v1/users/{carol.id}", headers=auth_headers).status_code == 204
    [event] = events(kind="login")
    assert (event.user_id, event.login) == (None, "carol")


# --- the admin page ---------------------------------------------------------------

def add_events(count: int, **fields) -> None:
    with app_request():
        for n in range(count):
            audit.record(fields.get("kind", "login_failed"), login=f"guess{n}", reason="wrong_password",
                         **{k: v for k, v in fields.items() if k != "kind"})
    db.session.commit()


def app_request():
    from flask import current_app

    return current_app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.1"})


def test_the_page_lists_newest_first_and_is_linked_from_the_navigation(app, admin_user):
    bob = make_user("bob", password="bobs password")
    attempt(browser(app, "198.51.100.9"), "bob", "bobs password")  # not an admin
    client = logged_in(app)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/audit/logins"' in dashboard and "Login audit" in dashboard
    response = client.get("/admin/audit/logins")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.index("198.51.100.9") > html.index(ADDRESS)  # the login after the refusal comes first
    assert "not_admin" in html and AGENT in html and f'href="/admin/users/{bob.id}"' in html
    assert 'aria-current="page" href="/admin/audit/logins"' in html


def test_the_page_is_for_admins_only(app, client):
    response = client.get("/admin/audit/logins")
    assert response.status_code == 302 and response.location.startswith("/admin/login")


def test_the_page_filters_by_kind_and_account(app, admin_user):
    bob = make_user("bob", password="bobs password")
    attempt(browser(app, "198.51.100.9"), "bob", "wrong")
    client = logged_in(app)
    by_kind = client.get("/admin/audit/logins?kind=login").get_data(as_text=True)
    assert ADDRESS in by_kind and "198.51.100.9" not in by_kind
    for ref in ("bob", "BOB@example.com", str(bob.id)):
        by_user = client.get(f"/admin/audit/logins?user={ref}").get_data(as_text=True)
        assert "198.51.100.9" in by_user and ADDRESS not in by_user, ref
    both = client.get("/admin/audit/logins?kind=login&user=bob").get_data(as_text=True)
    assert "No events match these filters" in both
    assert client.get("/admin/audit/logins?kind=bogus").status_code == 400
    assert client.get("/admin/audit/logins?user=ghost").status_code == 400
    assert client.get("/admin/audit/logins?cursor=forged").status_code == 400


def test_the_page_pages_with_the_filters_kept(app, admin_user):
    add_events(120)
    client = logged_in(app)
    seen, url = [], "/admin/audit/logins?kind=login_failed"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r"“(guess\d+)”", html)
        match = re.search(r'rel="next"\s+href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "kind=login_failed" in url
    assert seen == [f"guess{n}" for n in reversed(range(120))]
    assert len(seen) == len(set(seen))


def test_every_kind_can_be_listed(app, admin_user):
    client = logged_in(app)
    for kind in KINDS:
        assert client.get(f"/admin/audit/logins?kind={kind}").status_code == 200
