"""JSON look-ups behind the owner and assignee pickers (search as you type).

A prefix match on username, which its unique index serves, limited to a
handful of rows: the pickers never load the user table.
"""
from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from best_app.admin import bp
from best_app.extensions import db
from best_app.forms import MAX_ID
from best_app.models import USERNAME_PATTERN, User

LIMIT = 10


def _upper_bound(prefix: str) -> str | None:
    """The smallest string above every string starting with `prefix`, in code-point order.

    Only a letter or digit that bumps to another letter or digit is safe:
    linguistic collations sort punctuation apart, so otherwise we keep the
    LIKE alone.
    """
    bumped = chr(ord(prefix[-1]) + 1)
    if not (prefix[-1].isalnum() and bumped.isalnum()):
        return None  # e.g. "9" -> ":", "z" -> "{": punctuation sorts elsewhere
    return prefix[:-1] + bumped


@bp.get("/lookup/users")
def lookup_users():
    prefix = request.args.get("q", "").strip()
    results = []
    if prefix.isascii() and prefix.isdigit() and int(prefix) <= MAX_ID:
        user = db.session.get(User, int(prefix))
        if user is not None:
            results.append(user)
    if prefix and len(prefix) <= 64 and USERNAME_PATTERN.match(prefix.ljust(3, "x")):
        # The range lets the index find the start; LIKE keeps it exact.
        statement = select(User).where(User.username >= prefix,
                                       User.username.startswith(prefix, autoescape=True))
        upper = _upper_bound(prefix)
        if upper is not None:
            statement = statement.where(User.username < upper)
        statement = statement.order_by(User.username).limit(LIMIT)
        results.extend(user for user in db.session.scalars(statement) if user not in results)
    return jsonify([{"id": u.id, "username": u.username, "name": u.name} for u in results[:LIMIT]])
