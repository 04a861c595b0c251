"""The login audit trail in the admin pages: newest first, by kind and by account.

Read-only: events are written by best_app.audit where they happen. Paged with
the lists' one keyset paginator, like the tokens page.
"""
from __future__ import annotations

from types import SimpleNamespace

from flask import abort, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from best_app.admin import bp
from best_app.admin.list_view import newest_first_page
from best_app.models import LoginEvent, User
from best_app.models.login_event import KINDS
from best_app.resources.query import Page

PER_PAGE = 50
LIST_NAME = "login-events"


def find_user(identifier: str) -> User | None:
    """A user by username or email (any case), or else by id, as the CLI finds them."""
    identifier = identifier.strip()
    if not identifier or len(identifier) > 254:
        return None
    return User.find(identifier)


def _filters() -> tuple[dict, User | None]:
    """The filters in the query string, checked: an unknown kind or account is a 400."""
    kind, user_ref = request.args.get("kind", ""), request.args.get("user", "")
    if kind and kind not in KINDS:
        abort(400, description=f"Query parameter 'kind': must be one of {', '.join(KINDS)}.")
    user = find_user(user_ref) if user_ref else None
    if user_ref and user is None:
        abort(400, description="Query parameter 'user': no user has this id, username or email.")
    return {"kind": kind or None, "user": user_ref or None}, user


def _page(args: dict, user: User | None) -> tuple[Page, SimpleNamespace]:
    statement = select(LoginEvent).options(selectinload(LoginEvent.user), selectinload(LoginEvent.actor))
    if args["kind"]:
        statement = statement.where(LoginEvent.kind == args["kind"])
    if user is not None:
        statement = statement.where(LoginEvent.user_id == user.id)
    return newest_first_page(LIST_NAME, statement, LoginEvent, PER_PAGE, **args)


@bp.get("/audit/logins")
def audit_logins():
    args, user = _filters()
    page, view = _page(args, user)
    return render_template("admin/audit/logins.html", page=page, view=view, args=args, kinds=KINDS)
