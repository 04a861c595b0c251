"""The change log over HTTP: each row's history, and a change feed for scripts that mirror our data.

GET /api/v1/<resource>/<id>/history: the row's changes, newest first
(keyset pages), also after the row was deleted.

GET /api/v1/changes?after=<cursor>: every committed change, once, oldest
first (a cursor older than what `flask history prune` kept gets 410 Gone). Entries are ordered by (transaction id, entry id) and handed out only
below the horizon, the oldest transaction still running when the request
reads (PostgreSQL's snapshot xmin): a transaction that started earlier but
commits later has an id below the horizon only once it has finished, so a
follower that polls with its last cursor never skips it. An autoincrement id
alone would not do: ids are taken at insert, commits happen later, in any
order. On SQLite one writer at a time commits in id order, and everything
committed is below the horizon.
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, text, tuple_

from best_app.api import bp
from best_app.api.problems import ApiError, bad_parameter
from best_app.extensions import db
from best_app.forms import MAX_ID
from best_app.models import Change
from best_app.models.change import ChangeRetention
from best_app.resources import REGISTRY, Resource
from best_app.resources.params import BadParameter, integer
from best_app.resources.query import newest_first

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def _limit(default: int) -> int:
    try:
        return integer("limit", request.args["limit"], MAX_LIMIT) if "limit" in request.args else default
    except BadParameter as error:
        raise bad_parameter(error.name, error.message) from None


def _only(*allowed: str) -> None:
    for name in request.args:
        if name not in allowed:
            raise bad_parameter(name, f"unknown parameter; use {', '.join(allowed)}")


def history_view(resource: Resource, id: int):
    _only("limit", "cursor")
    if id > MAX_ID:  # past the column's range: no such row, ever (and no query may carry it)
        raise ApiError(404, f"No {resource.singular} with id {id}, and no history of one.")
    statement = select(Change).where(Change.resource == resource.name, Change.row_id == id)
    cursor = request.args.get("cursor")
    try:
        entries, cursors = newest_first(f"history:{resource.name}", statement, Change, cursor, _limit(50))
    except BadParameter as error:
        raise bad_parameter(error.name, error.message) from None
    if not entries and cursor is None and db.session.get(resource.model, id) is None:
        raise ApiError(404, f"No {resource.singular} with id {id}, and no history of one.")
    return jsonify({"items": [entry.as_json() for entry in entries], "next_cursor": cursors["next_cursor"]})


def _feed_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"] or "", salt="changes")


def _feed_position() -> tuple[int, int]:
    raw = request.args.get("after")
    if raw is None:
        return (-1, 0)  # before everything
    try:
        txid, change_id = _feed_serializer().loads(raw)
    except (BadSignature, TypeError, ValueError):
        raise bad_parameter("after", "is not a cursor the change feed issued") from None
    return txid, change_id


def horizon() -> int | None:
    """The oldest transaction still running, below which every change is final (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        return None
    return db.session.scalar(text("SELECT txid_snapshot_xmin(txid_current_snapshot())"))


@bp.get("/changes")
def changes():
    _only("after", "resource", "limit")
    limit = _limit(DEFAULT_LIMIT)
    position = _feed_position()
    pruned = db.session.get(ChangeRetention, 1)
    if pruned is not None and "after" in request.args and position < (pruned.pruned_txid, pruned.pruned_id):
        raise ApiError(410, "This cursor is older than the retained change log: entries after it were pruned "
                            f"(everything from before {pruned.pruned_before:%Y-%m-%d %H:%M} UTC). Read the data "
                            "again, then follow the feed from its start (no `after`).",
                       pruned_before=pruned.pruned_before.isoformat())
    statement = select(Change).where(tuple_(Change.txid, Change.id) > tuple_(*position))
    resource = request.args.get("resource")
    if resource is not None:
        if resource not in REGISTRY:
            raise bad_parameter("resource", f"must be one of {', '.join(REGISTRY)}")
        statement = statement.where(Change.resource == resource)
    below = horizon()
    if below is not None:
        statement = statement.where(Change.txid < below)
    entries = db.session.scalars(statement.order_by(Change.txid, Change.id).limit(limit)).all()
    if entries:
        position = (entries[-1].txid, entries[-1].id)
    return jsonify({"items": [entry.as_json() for entry in entries],
                    "next_cursor": _feed_serializer().dumps(list(position)),
                    "more": len(entries) == limit})


def register(resource: Resource) -> None:
    bp.add_url_rule(f"/{resource.name}/<int:id>/history", f"{resource.singular}_history",
                    lambda id: history_view(resource, id), methods=["GET"])


for _resource in REGISTRY.values():
    if _resource.history:
        register(_resource)


# -- the OpenAPI document's part ----------------------------------------------------

def openapi_paths(responses, query, ref) -> tuple[dict, dict]:
    """(paths, component schemas) of these routes, built with the document's helpers."""
    change = {"type": "object", "additionalProperties": False, "required": [
        "id", "resource", "row_id", "action", "version", "changed_at", "actor", "actor_user_id", "source",
        "request_id", "fields"], "properties": {
        "id": {"type": "integer"}, "resource": {"type": "string"}, "row_id": {"type": "integer"},
        "action": ref("ChangeAction"),
        "version": {"type": ["integer", "null"]}, "changed_at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string"}, "actor_user_id": {"type": ["integer", "null"]}, "source": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "fields": {"type": "object", "description": 'Field -> [old, new]; a secret field -> "changed".'}}}
    history_page = {"type": "object", "additionalProperties": False, "required": ["items", "next_cursor"],
                    "properties": {"items": {"type": "array", "items": ref("Change")},
                                   "next_cursor": {"type": ["string", "null"]}}}
    feed_page = {"type": "object", "additionalProperties": False, "required": ["items", "next_cursor", "more"],
                 "properties": {"items": {"type": "array", "items": ref("Change")},
                                "next_cursor": {"type": "string", "description": "Poll again with this."},
                                "more": {"type": "boolean", "description": "A full page: ask again now."}}}
    limit = query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Entries per page.")
    paths = {}
    for resource in REGISTRY.values():
        if not resource.history:
            continue
        paths[f"/api/v1/{resource.name}/{{id}}/history"] = {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}],
            "get": {"operationId": f"get_{resource.singular}_history", "tags": [resource.name],
                    "summary": f"A {resource.singular}'s changes, newest first (also once deleted)",
                    "parameters": [limit, query("cursor", {"type": "string", "minLength": 1},
                                                "`next_cursor` of the previous page.")],
                    "responses": responses({"200": {"description": "A page of changes.",
                                                    "content": {"application/json": {"schema": ref("HistoryPage")}}}},
                                           400, 401, 404)}}
    paths["/api/v1/changes"] = {"get": {
        "operationId": "list_changes", "tags": ["changes"],
        "summary": "The change feed: every committed change once, oldest first",
        "description": "Follow it with `after` = the last `next_cursor`. A cursor older than the pruned log is "
                       "410 Gone.",
        "parameters": [query("after", {"type": "string", "minLength": 1}, "`next_cursor` of the previous call."),
                       query("resource", ref("ResourceName"), "Only this resource's changes."), limit],
        "responses": responses({"200": {"description": "Changes.",
                                        "content": {"application/json": {"schema": ref("ChangesPage")}}}},
                               400, 401, 410)}}
    enums = {"ChangeAction": {"type": "string", "enum": ["create", "update", "delete"],
                              "x-enum-varnames": ["CREATE", "UPDATE", "DELETE"]},
             "ResourceName": {"type": "string", "enum": list(REGISTRY),
                              "x-enum-varnames": [name.upper() for name in REGISTRY]}}
    return paths, {"Change": change, "HistoryPage": history_page, "ChangesPage": feed_page, **enums}
