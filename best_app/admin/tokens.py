"""API tokens: issue (the secret is shown once, never stored), list, revoke.

Issuing and revoking are in the login audit trail, in the same transaction.
"""
from __future__ import annotations

from types import SimpleNamespace

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from best_app import audit
from best_app.admin import bp
from best_app.admin.editing import get_or_404
from best_app.admin.list_view import newest_first_page
from best_app.extensions import db
from best_app.forms import TokenForm
from best_app.models import ApiToken
from best_app.models.login_event import TOKEN_CREATED, TOKEN_REVOKED
from best_app.resources.query import Page

PER_PAGE = 25


def _page() -> tuple[Page, SimpleNamespace]:
    statement = select(ApiToken).options(selectinload(ApiToken.user))
    return newest_first_page("tokens", statement, ApiToken, PER_PAGE)


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    form = TokenForm()
    secret, status = None, 200
    if form.validate_on_submit():
        token, secret = ApiToken.issue(form.user_id.user, name=form.name.data or "")
        db.session.flush()  # for the token's id
        audit.record(TOKEN_CREATED, user=token.user, token_id=token.id, actor_id=current_user.id)
        db.session.commit()
        # Rendered in this response rather than after a redirect: the secret
        # must not be kept anywhere (not even in the session) to be shown later.
        form = TokenForm(formdata=None)
    elif request.method == "POST":
        status = 400
    page, view = _page()
    return render_template("admin/tokens/list.html", form=form, page=page, view=view, secret=secret), status


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int):
    token = get_or_404(ApiToken, token_id)
    if token.is_active:
        token.revoke()
        audit.record(TOKEN_REVOKED, user=token.user, token_id=token.id, actor_id=current_user.id)
    db.session.commit()
    # Committing invalidates the cached token checks, so it stops working at once.
    flash(f"Token {token.name or token.id} was revoked.", "info")
    return redirect(url_for("admin.tokens"))
