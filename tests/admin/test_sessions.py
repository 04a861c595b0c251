"""Admin sessions end server-side: on logout, on a password change or demotion,
with the account, and when they expire. Two browsers are two test clients."""
from datetime import timedelta

from flask_login.utils import encode_cookie
from sqlalchemy import func, select, update

from best_app.extensions import db
from best_app.models import AdminSession, User, hash_token
from best_app.models.base import utcnow
from tests.admin.conftest import post_form
from tests.conftest import ADMIN_PASSWORD, login, make_user

OTHER_PASSWORD = "another good password"


def browser(app, username: str = "admin", password: str = ADMIN_PASSWORD):
    """A new test client (a browser of its own) logged in through the form."""
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    assert_in(client)
    return client


def assert_in(client) -> None:
    assert client.get("/admin/").status_code == 200


def assert_out(client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.location.startswith("/admin/login")


def sessions_of(user_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AdminSession).where(AdminSession.user_id == user_id))


def cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def edit_user(client, user: User, **changes):
    db.session.refresh(user)
    data = {"username": user.username, "email": user.email, "name": user.name, "role": user.role,
            "is_admin": "y" if user.is_admin else "", "password": "", "version": str(user.version), **changes}
    return post_form(client, f"/admin/users/{user.id}", data)


def test_a_cookie_copied_before_logout_is_refused_after_logout(app, admin_user):
    browser_a = browser(app)
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie(app, browser_a))
    assert_in(thief)  # the copy works while the session lasts...

    page = browser_a.get("/admin/")
    response = post_form(browser_a, "/admin/logout", {}, form_url="/admin/")
    assert page.status_code == 200 and response.status_code == 302
    assert_out(browser_a)
    assert_out(thief)  # ...and not after logout
    assert sessions_of(admin_user.id) == 0


def test_logout_ends_only_that_session(app, admin_user):
    browser_a, browser_b = browser(app), browser(app)
    post_form(browser_a, "/admin/logout", {}, form_url="/admin/")
    assert_out(browser_a)
    assert_in(browser_b)


def test_a_remember_me_cookie_does_not_bring_an_ended_session_back(app, admin_user):
    browser_a = browser(app)
    assert browser_a.get_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token")) is None
    post_form(browser_a, "/admin/logout", {}, form_url="/admin/")
    # A validly signed remember-me cookie, as Flask-Login would have issued.
    browser_a.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), encode_cookie(str(admin_user.id)))
    assert_out(browser_a)


def test_changing_my_own_password_ends_my_other_sessions_and_keeps_this_one(app, admin_user):
    here, elsewhere = browser(app), browser(app)
    response = edit_user(here, admin_user, password=OTHER_PASSWORD)
    assert response.status_code == 302
    assert_in(here)
    assert_out(elsewhere)
    assert sessions_of(admin_user.id) == 1
    assert login(app.test_client(), "admin", OTHER_PASSWORD).status_code == 302


def test_saving_my_account_without_a_new_password_ends_nothing(app, admin_user):
    here, elsewhere = browser(app), browser(app)
    assert edit_user(here, admin_user, name="Renamed").status_code == 302
    assert_in(here)
    assert_in(elsewhere)


def test_changing_someone_elses_password_ends_all_their_sessions(app, admin_user):
    carol = make_user("carol", password=OTHER_PASSWORD, is_admin=True)
    mine, hers_1, hers_2 = browser(app), browser(app, "carol", OTHER_PASSWORD), browser(app, "carol", OTHER_PASSWORD)
    assert edit_user(mine, carol, password="carols new password").status_code == 302
    assert_out(hers_1)
    assert_out(hers_2)
    assert_in(mine)
    assert sessions_of(carol.id) == 0


def test_a_password_change_through_the_api_ends_all_sessions_of_the_account(app, client, admin_user, auth_headers):
    browser_a, browser_b = browser(app), browser(app)
    response = client.patch(f"/api/v1/users/{admin_user.id}", json={"password": OTHER_PASSWORD}, headers=auth_headers)
    assert response.status_code == 200
    assert_out(browser_a)
    assert_out(browser_b)
    assert sessions_of(admin_user.id) == 0


def test_an_api_change_that_leaves_the_password_alone_ends_nothing(app, client, admin_user, auth_headers):
    browser_a = browser(app)
    response = client.patch(f"/api/v1/users/{admin_user.id}", json={"name": "Still Me"}, headers=auth_headers)
    assert response.status_code == 200
    assert_in(browser_a)


def test_demotion_ends_the_sessions_and_promotion_does_not_revive_them(app, client, admin_user, auth_headers):
    carol = make_user("carol", password=OTHER_PASSWORD, is_admin=True)
    hers = browser(app, "carol", OTHER_PASSWORD)
    url = f"/api/v1/users/{carol.id}"
    assert client.patch(url, json={"is_admin": False}, headers=auth_headers).status_code == 200
    assert sessions_of(carol.id) == 0
    assert client.patch(url, json={"is_admin": True}, headers=auth_headers).status_code == 200
    assert_out(hers)
    assert_in(browser(app, "carol", OTHER_PASSWORD))  # a new login works again


def test_deleting_a_user_deletes_their_sessions(app, client, admin_user, auth_headers):
    carol = make_user("carol", password=OTHER_PASSWORD, is_admin=True)
    hers = browser(app, "carol", OTHER_PASSWORD)
    assert sessions_of(carol.id) == 1
    assert client.delete(f"/api/v1/users/{carol.id}", headers=auth_headers).status_code == 204
    assert sessions_of(carol.id) == 0
    assert_out(hers)


def test_deleting_a_user_in_the_admin_pages_ends_their_sessions(app, admin_user):
    carol = make_user("carol", password=OTHER_PASSWORD, is_admin=True)
    mine, hers = browser(app), browser(app, "carol", OTHER_PASSWORD)
    url = f"/admin/users/{carol.id}/delete"
    page = mine.get(url)
    response = post_form(mine, url, {"version": str(carol.version), "previewed": "cars:0:0"})
    assert page.status_code == 200 and response.status_code == 302, response.status_code
    assert_out(hers)
    assert_in(mine)


def test_a_password_change_that_rolls_back_ends_nothing(app, admin_user):
    browser(app)
    admin_user.set_password(OTHER_PASSWORD)
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(AdminSession)) == 0  # same transaction...
    db.session.rollback()
    assert sessions_of(admin_user.id) == 1  # ...so undone with it


def test_an_expired_session_is_refused(app, admin_user):
    browser_a = browser(app)
    db.session.execute(update(AdminSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert_out(browser_a)


def test_the_lifetime_setting_sets_when_a_session_expires(app, admin_user):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=2)
    before = utcnow()
    browser(app)
    row = db.session.scalar(select(AdminSession))
    assert row.expires_at - row.created_at == timedelta(hours=2)
    assert before <= row.created_at <= utcnow()


def test_the_default_lifetime_is_twelve_hours(app, admin_user):
    browser(app)
    row = db.session.scalar(select(AdminSession))
    assert row.expires_at - row.created_at == timedelta(hours=12)


def test_an_idle_session_is_refused_and_an_active_one_is_kept_alive(app, admin_user):
    app.config["SESSION_IDLE_TIMEOUT"] = timedelta(minutes=30)
    idle, active = browser(app), browser(app)
    idle_id, active_id = db.session.scalars(select(AdminSession.id).order_by(AdminSession.id)).all()

    def last_seen(session_id: int, minutes_ago: int) -> None:
        db.session.execute(update(AdminSession).where(AdminSession.id == session_id)
                           .values(last_seen_at=utcnow() - timedelta(minutes=minutes_ago)))
        db.session.commit()

    last_seen(idle_id, 31)
    last_seen(active_id, 29)
    assert_out(idle)
    assert_in(active)  # noted as seen now...
    db.session.expire_all()
    assert utcnow() - db.session.get(AdminSession, active_id).last_seen_at < timedelta(minutes=1)
    last_seen(active_id, 29)  # ...so it is not idle 29 minutes later either
    assert_in(active)


def test_expired_sessions_are_deleted_at_the_next_login(app, admin_user):
    browser(app)
    db.session.execute(update(AdminSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    browser(app)
    assert sessions_of(admin_user.id) == 1


def test_only_a_hash_of_the_session_secret_is_stored(app, admin_user):
    browser_a = browser(app)
    serializer = app.session_interface.get_signing_serializer(app)
    secret = serializer.loads(cookie(app, browser_a))["_admin_session"]
    row = db.session.scalar(select(AdminSession))
    assert len(secret) >= 40 and row.secret_hash == hash_token(secret) != secret
    assert row.user_agent.startswith("Werkzeug") and row.ip_address == "127.0.0.1"
