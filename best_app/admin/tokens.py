"""API tokens: issue (the secret is shown once, never stored), list, revoke.

Issuing follows POST/redirect/GET, so reloading the page that shows a new
secret does not issue another token. The secret crosses the redirect in the
session, for one display only: the next page of the list takes it out
(even if it no longer shows it), and shows it only while the token is active
and newer than SHOW_SECRET_FOR. The session is a signed cookie, so this is the
one moment a secret is held outside the response that made it; the cookie is
HttpOnly and only ever sent to this site, which is also the only place where
it is worth anything (its own admin session ends with logout).

Revoking asks for confirmation on a page of its own. Issuing and revoking are
in the login audit trail, in the same transaction.
"""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from best_app import audit
from best_app.admin import bp
from best_app.admin.editing import get_or_404
from best_app.admin.list_view import newest_first_page
from best_app.extensions import db
from best_app.forms import Form, TokenForm
from best_app.models import ApiToken
from best_app.models.base import utcnow
from best_app.models.login_event import TOKEN_CREATED, TOKEN_REVOKED
from best_app.resources.query import Page

PER_PAGE = 25
NEW_SECRET = "_new_token"  # session key: the token just issued, until the list has shown it
SHOW_SECRET_FOR = timedelta(minutes=5)


def _page() -> tuple[Page, SimpleNamespace]:
    statement = select(ApiToken).options(selectinload(ApiToken.user))
    return newest_first_page("tokens", statement, ApiToken, PER_PAGE)


def _take_new_secret() -> tuple[ApiToken, str] | None:
    """The token issued just before, with its secret, once; None if there is none to show."""
    stashed = session.pop(NEW_SECRET, None)
    if not isinstance(stashed, dict) or not isinstance(stashed.get("id"), int):
        return None
    token = db.session.get(ApiToken, stashed["id"])
    if token is None or not token.is_active or utcnow() - token.created_at > SHOW_SECRET_FOR:
        return None
    return token, str(stashed.get("secret", ""))


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    form = TokenForm()
    if form.validate_on_submit():
        token, secret = ApiToken.issue(form.user_id.user, name=form.name.data or "")
        db.session.flush()  # for the token's id
        audit.record(TOKEN_CREATED, user=token.user, token_id=token.id, actor_id=current_user.id)
        db.session.commit()
        session[NEW_SECRET] = {"id": token.id, "secret": secret}
        return redirect(url_for("admin.tokens"))
    status = 400 if request.method == "POST" else 200
    new = _take_new_secret() if request.method == "GET" else None
    page, view = _page()
    return render_template("admin/tokens/list.html", form=form, page=page, view=view, new=new), status


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
def token_revoke(token_id: int):
    """GET: what revoking this token stops, and a button to confirm; POST: revoke it."""
    token = get_or_404(ApiToken, token_id)
    if request.method == "GET":
        return render_template("admin/tokens/revoke.html", token=token, form=Form())
    if token.is_active:
        token.revoke()
        audit.record(TOKEN_REVOKED, user=token.user, token_id=token.id, actor_id=current_user.id)
    db.session.commit()
    # Committing invalidates the cached token checks, so it stops working at once.
    flash(f"Token {token.name or token.id} was revoked.", "info")
    return redirect(url_for("admin.tokens"))
