"""API tokens from the admin pages: the secret is shown once; revoking stops it."""
import re

from sqlalchemy import select

from best_app.extensions import db
from best_app.models import ApiToken, hash_token
from tests.admin.conftest import post_form
from tests.conftest import make_user


def test_create_token_shows_the_secret_once(logged_in_client):
    bob = make_user("bob")
    response = post_form(logged_in_client, "/admin/tokens", {"user_id": "bob", "name": "nightly export"})
    # POST/redirect/GET: reloading the page that shows the secret issues nothing.
    assert response.status_code == 302 and response.location == "/admin/tokens"
    shown = logged_in_client.get(response.location).get_data(as_text=True)
    secret = re.search(r'id="new-secret" readonly value="([^"]+)"', shown).group(1)
    token = db.session.scalar(select(ApiToken))
    assert (token.user_id, token.name, token.token_hash) == (bob.id, "nightly export", hash_token(secret))
    later = logged_in_client.get("/admin/tokens").get_data(as_text=True)
    assert "nightly export" in later and "bob" in later
    assert secret not in later and 'id="new-secret"' not in later
    assert db.session.scalars(select(ApiToken)).all() == [token]
    # It is a working API credential.
    api = logged_in_client.application.test_client()
    assert api.get("/api/v1/cars", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_a_new_secret_is_not_kept_in_the_session_once_shown(app, logged_in_client):
    make_user("bob")
    post_form(logged_in_client, "/admin/tokens", {"user_id": "bob"})
    with logged_in_client.session_transaction() as session:
        assert "_new_token" in session  # for the one page that shows it
    logged_in_client.get("/admin/tokens")
    with logged_in_client.session_transaction() as session:
        assert "_new_token" not in session


def test_a_new_secret_is_not_shown_once_the_token_is_revoked(logged_in_client):
    make_user("bob")
    post_form(logged_in_client, "/admin/tokens", {"user_id": "bob"})
    token = db.session.scalar(select(ApiToken))
    token.revoke()
    db.session.commit()
    assert 'id="new-secret"' not in logged_in_client.get("/admin/tokens").get_data(as_text=True)


def test_token_for_unknown_user_is_refused_on_the_field(logged_in_client):
    response = post_form(logged_in_client, "/admin/tokens", {"user_id": "ghost", "name": "x"})
    assert response.status_code == 400
    assert 'id="user_id-errors"' in response.get_data(as_text=True)
    assert db.session.scalars(select(ApiToken)).all() == []


def test_revoke_token_after_confirming(logged_in_client, admin_user):
    token, secret = ApiToken.issue(admin_user, name="old")
    db.session.commit()
    api = logged_in_client.application.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/users", headers=headers).status_code == 200  # and now its check is cached
    # The list links to a confirmation page; opening it revokes nothing.
    listing = logged_in_client.get("/admin/tokens").get_data(as_text=True)
    assert f'href="/admin/tokens/{token.id}/revoke"' in listing
    confirm = logged_in_client.get(f"/admin/tokens/{token.id}/revoke")
    assert confirm.status_code == 200 and "Yes, revoke old" in confirm.get_data(as_text=True)
    db.session.expire_all()
    assert token.revoked_at is None
    assert logged_in_client.post(f"/admin/tokens/{token.id}/revoke").status_code == 400  # no CSRF token
    db.session.expire_all()
    assert token.revoked_at is None
    response = post_form(logged_in_client, f"/admin/tokens/{token.id}/revoke", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert token.revoked_at is not None
    assert "Revoked" in logged_in_client.get("/admin/tokens").get_data(as_text=True)
    assert api.get("/api/v1/users", headers=headers).status_code == 401  # at once, despite the cache
    # Its page now says so, and offers nothing to press.
    again = logged_in_client.get(f"/admin/tokens/{token.id}/revoke").get_data(as_text=True)
    assert "This token was revoked" in again and "Yes, revoke" not in again


def test_revoking_an_unknown_token_is_a_404(logged_in_client):
    assert logged_in_client.get("/admin/tokens/999/revoke").status_code == 404


def test_tokens_page_newest_first_over_every_token_once(logged_in_client, admin_user):
    for n in range(30):
        ApiToken.issue(admin_user, name=f"job {n:02d}")
    db.session.commit()
    seen, url = [], "/admin/tokens"
    while url:
        html = logged_in_client.get(url).get_data(as_text=True)
        seen += re.findall(r"<td>(job \d\d) ", html)
        match = re.search(r'rel="next"\s+href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == [f"job {n:02d}" for n in reversed(range(30))]
