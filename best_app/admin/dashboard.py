"""The dashboard: how much there is of each resource, how the work stands, what changed last.

Every resource in the registry gets a count and a "recently changed" column;
a resource that declares a `chart` (a boolean field) gets its split drawn.
Counts, splits and recent rows are cached under their tables' generations,
so they cost no query until something is written; the page itself (which
carries the logout form's CSRF token) is never cached.
"""
from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from best_app.admin import bp
from best_app.caching import cached, count_visit
from best_app.extensions import db
from best_app.resources import REGISTRY, Resource
from best_app.resources.counting import count_all

RECENT = 5


def _split(resource: Resource) -> dict:
    """How many rows have the chart field true (done) and false (open)."""
    column = resource.column(resource.chart)
    rows = db.session.execute(select(column, func.count()).group_by(column)).all()
    split = {"yes": 0, "no": 0}
    for value, count in rows:
        split["yes" if value else "no"] = count
    return split


def _recent(resource: Resource) -> list[dict]:
    model = resource.model
    rows = db.session.execute(select(model.id, resource.column(resource.title_field).label("label"), model.updated_at)
                              .order_by(model.updated_at.desc(), model.id.desc()).limit(RECENT))
    return [{"id": row.id, "label": row.label, "updated_at": row.updated_at.isoformat()} for row in rows]


def chart(resource: Resource, split: dict) -> dict:
    """Geometry of the yes-vs-no ring, computed here so the SVG needs no script or style."""
    total = split["yes"] + split["no"]
    share = split["yes"] / total if total else 0
    yes, no = resource.filters[resource.chart].options()
    return {"resource": resource, "field": resource.chart, "split": split, "total": total,
            "yes_width": round(share * 100, 1), "yes_percent": round(share * 100),
            "yes": yes[1], "no": no[1]}


@bp.get("/")
def dashboard():
    cards, charts = [], []
    for resource in REGISTRY.values():
        table = resource.table
        count = cached(table, "count", lambda resource=resource: count_all(resource).as_json())[0]
        recent = cached(table, "recent", lambda resource=resource: _recent(resource))[0]
        cards.append({"resource": resource, "count": count, "recent": recent})
        if resource.chart:
            charts.append(chart(resource, cached(table, f"split:{resource.chart}",
                                                 lambda resource=resource: _split(resource))[0]))
    return render_template("admin/dashboard.html", cards=cards, charts=charts,
                           visits=count_visit("admin-dashboard"))
