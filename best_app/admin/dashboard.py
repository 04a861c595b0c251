"""The dashboard: how much there is, how the work stands, what changed last.

Counts and the done/open split are cached under their tables' generations,
so they cost no query until something is written; the page itself (which
carries the logout form's CSRF token) is never cached.
"""
from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from best_app.admin import bp
from best_app.caching import cached, count_visit
from best_app.extensions import db
from best_app.models import Car, Task, User

RECENT = 5


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _task_split() -> dict:
    rows = db.session.execute(select(Task.done, func.count()).group_by(Task.done)).all()
    split = {"done": 0, "open": 0}
    for done, count in rows:
        split["done" if done else "open"] = count
    return split


def _recent(model, label) -> list[dict]:
    rows = db.session.scalars(select(model).order_by(model.updated_at.desc(), model.id.desc()).limit(RECENT))
    return [{"id": row.id, "label": label(row), "updated_at": row.updated_at.isoformat()} for row in rows]


def chart(split: dict) -> dict:
    """Geometry of the done-vs-open bar, computed here so the SVG needs no script or style."""
    total = split["done"] + split["open"]
    done_share = split["done"] / total if total else 0
    return {"total": total, "done_width": round(done_share * 100, 1),
            "done_percent": round(done_share * 100)}


@bp.get("/")
def dashboard():
    counts = {
        "users": cached("users", "count", lambda: _count(User))[0],
        "cars": cached("cars", "count", lambda: _count(Car))[0],
        "tasks": cached("tasks", "count", lambda: _count(Task))[0],
    }
    split = cached("tasks", "done-open", _task_split)[0]
    recent = {
        "users": cached("users", "recent", lambda: _recent(User, lambda u: u.username))[0],
        "cars": cached("cars", "recent", lambda: _recent(Car, lambda c: c.model))[0],
        "tasks": cached("tasks", "recent", lambda: _recent(Task, lambda t: t.title))[0],
    }
    return render_template("admin/dashboard.html", counts=counts, split=split, chart=chart(split),
                           recent=recent, visits=count_visit("admin-dashboard"))
