"""JSON look-ups behind the owner and assignee pickers (search as you type).

The same search as the users list: a case-insensitive substring of the
username, email or name (trigram indexes serve it on PostgreSQL), so typing
"jane" or "Garcia" finds Jane Garcia. An id typed as digits comes first. At
most a handful of rows: the pickers never load the user table.
"""
from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import func, select

from best_app.admin import bp
from best_app.extensions import db
from best_app.forms import MAX_ID, SINGLE_LINE
from best_app.models import User
from best_app.resources import REGISTRY
from best_app.resources.query import MAX_SEARCH, own_search_clause

LIMIT = 10


@bp.get("/lookup/users")
def lookup_users():
    q = request.args.get("q", "").strip()
    results = []
    if q.isascii() and q.isdigit() and int(q) <= MAX_ID:
        user = db.session.get(User, int(q))
        if user is not None:
            results.append(user)
    if q and len(q) <= MAX_SEARCH and SINGLE_LINE.find(q) is None:
        statement = (select(User).where(own_search_clause(REGISTRY["users"], q))
                     .order_by(func.lower(User.username), User.id).limit(LIMIT))
        results.extend(user for user in db.session.scalars(statement) if user not in results)
    return jsonify([{"id": u.id, "username": u.username, "name": u.name, "email": u.email}
                    for u in results[:LIMIT]])
