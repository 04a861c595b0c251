"""The change log in the admin: a row's history, and every change, filterable.

`/admin/<resource>/<id>/history` shows one row's changes, newest first, with
each field's old and new value; it works for deleted rows too (the global
page links to it). `/admin/changes` lists every change, filterable by
resource, acting user, source and date, newest first by the time of the
change: each filter has an index on (filter, changed_at, id), so a page is
a short walk down one index whatever the filters and however far back the
dates are (in id order, a date range far back would read every later entry).
"""
from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from best_app.admin import bp
from best_app.admin.list_view import newest_first_page
from best_app.extensions import db
from best_app.models import Change
from best_app.models.change import SOURCES
from best_app.resources import REGISTRY, Resource
from best_app.resources import params
from best_app.resources.params import BadParameter

PER_PAGE = 25


def _history(resource: Resource, id: int):
    row = db.session.get(resource.model, id)
    statement = select(Change).where(Change.resource == resource.name, Change.row_id == id)
    page, view = newest_first_page(f"admin-history:{resource.name}", statement, Change, PER_PAGE)
    if row is None and not page.items and not request.args.get("cursor"):
        abort(404)
    return render_template("admin/changes/list.html", page=page, view=view, resource=resource, row=row,
                           row_id=id, filters=None)


def _filters(args) -> dict:
    """The global page's filters, read like every list's: a malformed one is a 400 naming it."""
    found = {}
    if args.get("resource"):
        if args["resource"] not in REGISTRY:
            raise BadParameter("resource", f"must be one of {', '.join(REGISTRY)}")
        found["resource"] = args["resource"]
    if args.get("source"):
        if args["source"] not in SOURCES:
            raise BadParameter("source", f"must be one of {', '.join(SOURCES)}")
        found["source"] = args["source"]
    if args.get("actor_user_id"):
        found["actor_user_id"] = params.integer("actor_user_id", args["actor_user_id"])
    for name in ("changed_after", "changed_before"):
        if args.get(name):
            found[name] = params.moment(name, args[name])
    return found


@bp.get("/changes")
def changes():
    args = MultiDict([(name, value) for name, value in request.args.items() if value != ""])
    try:
        filters = _filters(args)
        statement = select(Change)
        for name, value in filters.items():
            if name == "changed_after":
                statement = statement.where(Change.changed_at >= value)
            elif name == "changed_before":
                statement = statement.where(Change.changed_at < value)
            else:
                statement = statement.where(getattr(Change, name) == value)
    except BadParameter as error:
        abort(400, description=str(error))
    kept = {name: value for name, value in args.items() if name != "cursor"}
    page, view = newest_first_page("admin-changes", statement, Change, PER_PAGE, Change.changed_at, **kept)
    return render_template("admin/changes/list.html", page=page, view=view, resource=None, row=None, row_id=None,
                           filters={name: args.get(name, "") for name in
                                    ("resource", "source", "actor_user_id", "changed_after", "changed_before")},
                           resources=list(REGISTRY.values()), sources=SOURCES)


def register(resource: Resource) -> None:
    bp.add_url_rule(f"/{resource.name}/<int:id>/history", f"{resource.singular}_history",
                    lambda id: _history(resource, id), methods=["GET"])


for _resource in REGISTRY.values():
    if _resource.history:
        register(_resource)
