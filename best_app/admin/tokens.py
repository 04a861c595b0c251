"""API tokens: issue (the secret is shown once, never stored), list, revoke."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from best_app.admin import bp
from best_app.admin.editing import get_or_404
from best_app.admin.listing import Sort, paginate
from best_app.extensions import db
from best_app.forms import TokenForm
from best_app.models import ApiToken

SORTS = {"id": Sort("Created", ApiToken.id)}


def _page():
    statement = select(ApiToken).options(selectinload(ApiToken.user))
    args = request.args.to_dict()
    args.setdefault("dir", "desc")  # newest first
    return paginate("tokens", statement, ApiToken, SORTS, args, {})


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    form = TokenForm()
    secret, status = None, 200
    if form.validate_on_submit():
        token, secret = ApiToken.issue(form.user_id.user, name=form.name.data or "")
        db.session.commit()
        # Rendered in this response rather than after a redirect: the secret
        # must not be kept anywhere (not even in the session) to be shown later.
        form = TokenForm(formdata=None)
    elif request.method == "POST":
        status = 400
    return render_template("admin/tokens/list.html", form=form, page=_page(), secret=secret), status


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int):
    token = get_or_404(ApiToken, token_id)
    token.revoke()
    db.session.commit()
    # Committing invalidates the cached token checks, so it stops working at once.
    flash(f"Token {token.name or token.id} was revoked.", "info")
    return redirect(url_for("admin.tokens"))
