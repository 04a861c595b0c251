"""The generic views every resource shares, and the registry of resources.

`register(resource)` adds the standard routes (list, create, get, patch, put,
delete) for a Resource; a resource module adds only what is special about it.
Each request owns its transaction: one commit at the end, a rollback on any
error. Reads go through best_app.caching, whose session hooks invalidate them
after every commit, whichever path wrote.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.http import quote_etag
from sqlalchemy.orm.exc import StaleDataError

from best_app.api import bp
from best_app.api.bodies import read_json_object, validate
from best_app.api.listing import ListQuery, fetch_page, next_link, parse_list_args
from best_app.api.problems import ApiError, bad_parameter
from best_app.api.resource import MAX_ID, Resource
from best_app.caching import cached
from best_app.extensions import db

RESOURCES: dict[str, Resource] = {}


def _cached_json(body: bytes | None, cache_status: str, etag: str | None = None, status: int = 200) -> Response:
    """A cached read's response; its headers are given whole, as setting them
    one by one rescans the list each time (a cached read is that cheap)."""
    headers = [("X-Cache", cache_status),
               # Clients may keep a copy but must revalidate it (If-None-Match) before use.
               ("Cache-Control", "private, no-cache"), ("Vary", "Authorization")]
    if etag is not None:
        headers.append(("ETag", quote_etag(etag)))
    return current_app.response_class(body, status, headers, mimetype=None if body is None else "application/json")


def _encoded(data) -> bytes:
    """`data` as jsonify would send it. Cached reads keep this form, so a hit
    is not encoded again: for a list page that was most of its time."""
    return current_app.json.response(data).get_data()


def list_response(resource: Resource, query: ListQuery, scope: str = "", exists=None) -> Response:
    """A cached page; `exists`, when given, says whether the scope's owner exists (else 404)."""
    def load():
        if exists is not None and not exists():
            return None
        return fetch_page(resource, query)

    page, status = cached(resource.name, f"list:{scope}:{query.cache_key()}", load,
                          prepare=lambda page: (_encoded(page), page["next_cursor"]))
    if page is None:
        raise ApiError(404, f"No such {scope.partition(':')[0] or resource.singular}.")
    body, next_cursor = page
    response = _cached_json(body, status)
    if next_cursor:
        response.headers["Link"] = next_link(next_cursor)
    return response


def get_row(resource: Resource, id: int):
    """The row for a write, or 404. Ids past the column's range simply do not exist."""
    row = db.session.get(resource.model, id) if id <= MAX_ID else None
    if row is None:
        raise ApiError(404, f"No {resource.singular} with id {id}.")
    return row


def check_if_match(row) -> None:
    """A stale If-Match means the client edited an old copy: refuse before writing."""
    # Strong comparison (RFC 9110): a weak W/"n" never matches here.
    if request.if_match and not request.if_match.contains(str(row.version)):
        raise ApiError(412, f"The {row.__tablename__[:-1]} changed since you read it (now version "
                            f"{row.version}); read it again and reapply your change.",
                       current_version=row.version)


def item_response(resource: Resource, data: dict, status: int = 200):
    response = jsonify(data)
    response.status_code = status
    response.set_etag(str(data["version"]))
    return response


def commit(resource: Resource, form=None, row=None) -> None:
    """Commit the request's transaction, turning races into the right 4xx."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ApiError(412, f"The {resource.singular} changed while this request ran; read it again.") from None
    except IntegrityError:
        # Another request won a race past our checks (e.g. the same username).
        db.session.rollback()
        taken = resource.conflicts(form, row) if form is not None else {}
        if taken:
            raise conflict(taken) from None
        raise ApiError(409, f"The {resource.singular} conflicts with the current data; read it again.") from None


def conflict(taken: dict[str, str]) -> ApiError:
    fields = ", ".join(sorted(taken))
    return ApiError(409, f"Already taken: {fields}.", errors={k: [v] for k, v in taken.items()})


def save(resource: Resource, form, row):
    taken = resource.conflicts(form, row)
    if taken:
        raise conflict(taken)
    resource.apply(row, form)
    db.session.add(row)
    commit(resource, form, row)
    return resource.serialize(row)


# --- the views ---------------------------------------------------------------

def list_view(resource: Resource):
    return list_response(resource, parse_list_args(resource))


def get_view(resource: Resource, id: int):
    item, status = cached(resource.name, f"item:{id}", lambda: _load(resource, id),
                          prepare=lambda data: (_encoded(data), str(data["version"])))
    if item is None:
        raise ApiError(404, f"No {resource.singular} with id {id}.")
    body, version = item
    if request.if_none_match.contains_weak(version):
        return _cached_json(None, status, etag=version, status=304)
    return _cached_json(body, status, etag=version)


def _load(resource: Resource, id: int) -> dict | None:
    try:
        return resource.serialize(get_row(resource, id))
    except ApiError:
        return None  # not cached: the next read looks again


def create_view(resource: Resource):
    form = validate(resource, read_json_object())
    data = save(resource, form, resource.model())
    response = item_response(resource, data, 201)
    response.headers["Location"] = url_for(f"api.{resource.name}_get", id=data["id"])
    return response


def update_view(resource: Resource, id: int, full: bool):
    body = read_json_object()
    row = get_row(resource, id)
    check_if_match(row)
    form = validate(resource, body, current=resource.writable_values(row), full=full)
    return item_response(resource, save(resource, form, row))


def delete_view(resource: Resource, id: int):
    params = {}
    for name, raw in request.args.items():
        if name not in resource.delete_params:
            raise bad_parameter(name, "unknown parameter")
        params[name] = raw
    row = get_row(resource, id)
    check_if_match(row)
    resource.delete(row, params)
    commit(resource)
    return Response(status=204)


def register(resource: Resource) -> Resource:
    """Add the standard routes for `resource` to the API blueprint."""
    RESOURCES[resource.name] = resource
    base, item = f"/{resource.name}", f"/{resource.name}/<int:id>"
    name = resource.name
    bp.add_url_rule(base, f"{name}_list", lambda: list_view(resource), methods=["GET"])
    bp.add_url_rule(base, f"{name}_create", lambda: create_view(resource), methods=["POST"])
    bp.add_url_rule(item, f"{name}_get", lambda id: get_view(resource, id), methods=["GET"])
    bp.add_url_rule(item, f"{name}_patch", lambda id: update_view(resource, id, full=False), methods=["PATCH"])
    bp.add_url_rule(item, f"{name}_put", lambda id: update_view(resource, id, full=True), methods=["PUT"])
    bp.add_url_rule(item, f"{name}_delete", lambda id: delete_view(resource, id), methods=["DELETE"])
    return resource
