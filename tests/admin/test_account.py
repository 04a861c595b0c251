"""My account: the page, changing one's own password, and the rule that an
administrator has a password unless made for API tokens only."""
from sqlalchemy import func, select

from best_app.extensions import db
from best_app.models import AdminSession, LoginEvent, User
from tests.admin.conftest import post_form
from tests.admin.test_sessions import assert_in, assert_out, browser
from tests.conftest import ADMIN_PASSWORD, login, make_user

NEW_PASSWORD = "a brand new password"


def change(client, current: str = ADMIN_PASSWORD, new: str = NEW_PASSWORD, confirm: str | None = None):
    return post_form(client, "/admin/account", {"current_password": current, "password": new,
                                                "confirm": new if confirm is None else confirm})


def hash_of(user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).password_hash


def test_the_navbar_links_to_my_account_which_shows_it(logged_in_client, admin_user):
    dashboard = logged_in_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/account">My account</a>' in dashboard
    page = logged_in_client.get("/admin/account")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert admin_user.email in html and "Change password" in html
    assert 'id="session-count">1 session,' in html


def test_changing_my_password_ends_my_other_sessions_and_keeps_this_one(app, admin_user):
    here, elsewhere = browser(app), browser(app)
    response = change(here)
    assert response.status_code == 302 and response.location == "/admin/account"
    assert "Your password was changed" in here.get(response.location).get_data(as_text=True)
    assert_in(here)
    assert_out(elsewhere)
    assert db.session.scalar(select(func.count()).select_from(AdminSession)) == 1
    assert login(app.test_client(), "admin", NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "admin", ADMIN_PASSWORD).status_code == 401
    db.session.expire_all()
    assert db.session.scalars(select(LoginEvent.user_id).where(LoginEvent.kind == "password_changed")).all() == [
        admin_user.id]


def test_a_wrong_current_password_is_a_field_error_and_changes_nothing(app, admin_user):
    here, elsewhere = browser(app), browser(app)
    before = hash_of(admin_user)
    response = change(here, current="not my password")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="current_password-errors"' in html and "This is not your current password." in html
    assert hash_of(admin_user) == before
    assert_in(here)
    assert_in(elsewhere)


def test_the_new_password_follows_the_password_rules_and_is_typed_twice(logged_in_client, admin_user):
    before = hash_of(admin_user)
    short = change(logged_in_client, new="short")
    assert short.status_code == 400 and 'id="password-errors"' in short.get_data(as_text=True)
    differ = change(logged_in_client, confirm="something else entirely")
    assert differ.status_code == 400 and "The two passwords differ." in differ.get_data(as_text=True)
    missing = change(logged_in_client, current="")
    assert missing.status_code == 400 and 'id="current_password-errors"' in missing.get_data(as_text=True)
    assert hash_of(admin_user) == before


def test_wrong_current_passwords_are_throttled_like_logins(app, admin_user):
    here = browser(app)
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert change(here, current="guess").status_code == 400
    # Now even the right password must wait: guessing it is what the limit is for.
    throttled = change(here)
    assert throttled.status_code == 429
    assert "Too many wrong passwords" in throttled.get_data(as_text=True)
    assert throttled.headers["Retry-After"] == "60"
    assert login(app.test_client(), "admin", ADMIN_PASSWORD).status_code == 302  # unchanged


def test_mistakes_other_than_the_current_password_are_not_throttled(app, admin_user):
    here = browser(app)
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit + 1):
        assert change(here, confirm="typo typo typo").status_code == 400
    assert change(here).status_code == 302


# -- an administrator has a password, unless made for API tokens only ----------------------

def new_user(client, **fields):
    data = {"username": "robot", "email": "robot@example.com", "name": "", "role": "employee", "password": "",
            **fields}
    return post_form(client, "/admin/users/new", data)


def test_creating_an_admin_without_a_password_is_refused_on_the_field(logged_in_client):
    response = new_user(logged_in_client, is_admin="y")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="password-errors"' in html and "An administrator needs a password" in html
    assert db.session.scalar(select(User).where(User.username == "robot")) is None


def test_a_token_only_admin_is_created_with_a_warning(logged_in_client):
    response = new_user(logged_in_client, is_admin="y", token_only="y")
    assert response.status_code == 302
    robot = db.session.scalar(select(User).where(User.username == "robot"))
    assert robot.is_admin and robot.password_hash is None
    page = logged_in_client.get(response.location).get_data(as_text=True)
    assert "robot is an administrator for API tokens only" in page


def test_an_admin_with_a_password_and_a_non_admin_without_are_fine(logged_in_client):
    assert new_user(logged_in_client, is_admin="y", password="long enough").status_code == 302
    assert new_user(logged_in_client, username="plain", email="plain@example.com").status_code == 302
    page = logged_in_client.get("/admin/users").get_data(as_text=True)
    assert "API tokens only" not in page


def test_promoting_a_user_without_a_password_needs_one_or_token_only(logged_in_client):
    plain = make_user("plain")
    data = {"username": "plain", "email": plain.email, "name": "", "role": "employee", "is_admin": "y",
            "password": "", "version": str(plain.version)}
    refused = post_form(logged_in_client, f"/admin/users/{plain.id}", data)
    assert refused.status_code == 400 and "An administrator needs a password" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, plain.id).is_admin
    assert post_form(logged_in_client, f"/admin/users/{plain.id}", {**data, "token_only": "y"}).status_code == 302


def test_the_api_applies_the_same_rule(client, auth_headers):
    body = {"username": "robot", "email": "robot@example.com", "is_admin": True}
    refused = client.post("/api/v1/users", json=body, headers=auth_headers)
    assert refused.status_code == 422
    assert "An administrator needs a password" in refused.get_json()["errors"]["password"][0]
    created = client.post("/api/v1/users", json={**body, "token_only": True}, headers=auth_headers)
    assert created.status_code == 201 and created.get_json()["is_admin"] is True
    assert "token_only" not in created.get_json()
    # An existing token-only admin stays editable without a password.
    renamed = client.patch(f"/api/v1/users/{created.get_json()['id']}", json={"name": "Robot"}, headers=auth_headers)
    assert renamed.status_code == 200
    plain = client.post("/api/v1/users", json={"username": "plain", "email": "plain@example.com"},
                        headers=auth_headers).get_json()
    promoted = client.patch(f"/api/v1/users/{plain['id']}", json={"is_admin": True}, headers=auth_headers)
    assert promoted.status_code == 422 and "password" in promoted.get_json()["errors"]
