"""The API's routes for every registered resource: list, create, get, patch, put, delete,
and each reference's scoped list (/users/<id>/cars).

Everything here reads the resource declarations (best_app.resources); nothing
names a resource. Each request owns its transaction: one commit at the end, a
rollback on any error. Reads go through best_app.caching, whose session hooks
invalidate them after every commit, whichever path wrote.
"""
from __future__ import annotations

from urllib.parse import quote_plus, urlencode

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.http import quote_etag

from best_app.api import bp
from best_app.api.bodies import read_json_object, validate
from best_app.api.problems import ApiError, bad_parameter, invalid
from best_app.api.csv_routes import wants_csv
from best_app.caching import cached
from best_app.csvio.export import csv_response
from best_app.db_reads import without_transaction
from best_app.extensions import db
from best_app.hit_replay import made_of_cached_reads
from best_app.forms import MAX_ID
from best_app.resources import REGISTRY, Resource
from best_app.resources.counting import counts
from best_app.resources.declaration import DELETE, DependentsRemain
from best_app.resources.params import BadParameter, boolean
from best_app.resources.query import ListQuery, fetch_page, parse_list_args


def _cached_json(body: bytes | None, cache_status: str, etag: str | None = None, status: int = 200) -> Response:
    """A cached read's response; its headers are given whole, as setting them
    one by one rescans the list each time (a cached read is that cheap)."""
    headers = [("X-Cache", cache_status),
               # Clients may keep a copy but must revalidate it (If-None-Match) before use.
               ("Cache-Control", "private, no-cache"), ("Vary", "Authorization")]
    if etag is not None:
        headers.append(("ETag", quote_etag(etag)))
    made_of_cached_reads()  # and of the request: replayable while they stay current
    return current_app.response_class(body, status, headers, mimetype=None if body is None else "application/json")


def _encoded(data) -> bytes:
    """`data` as jsonify would send it. Cached reads keep this form, so a hit
    is not encoded again: for a list page that was most of its time."""
    return current_app.json.response(data).get_data()


def list_args(resource: Resource, fixed: dict | None = None) -> ListQuery:
    try:
        return parse_list_args(resource, request.args, fixed=fixed, extra=("format",))
    except BadParameter as error:
        raise bad_parameter(error.name, error.message) from None


def page_links(cursors: dict) -> str:
    """The Link header, built for this request (never cached: it carries this request's
    path and arguments). References are relative to this host, never absolute: the
    host would come from the request's Host header, which the client chooses."""
    if not (cursors["prev_cursor"] or cursors["next_cursor"]):
        return ""
    base = request.script_root + request.path
    # The other arguments are encoded once for every link (as urlencode would, pair by pair).
    others = urlencode([(name, value) for name, value in request.args.items(multi=True) if name != "cursor"])

    def link(rel: str, cursor: str | None) -> str:
        query = "&".join(part for part in (others, cursor and "cursor=" + quote_plus(cursor)) if part)
        return f'<{base}{"?" if query else ""}{query}>; rel="{rel}"'

    links = []
    if cursors["prev_cursor"]:
        links += [link("first", None), link("prev", cursors["prev_cursor"])]
    if cursors["next_cursor"]:
        links += [link("next", cursors["next_cursor"]), link("last", cursors["last_cursor"])]
    return ", ".join(links)


def list_response(resource: Resource, query: ListQuery, scope: str = "", exists=None) -> Response:
    """A cached page; `exists`, when given, says whether the scope's owner exists (else 404)."""
    def load():
        with without_transaction():
            if exists is not None and not exists():
                return None
            page = fetch_page(resource, query)
        return {**page.as_json(), "last_cursor": page.last_cursor}

    def prepare(page):
        body = {name: value for name, value in page.items() if name != "last_cursor"}
        return _encoded(body), page, body

    page, status = cached(resource.table, f"list:{scope}:{query.cache_key()}", load, prepare=prepare)
    if page is None:
        raise ApiError(404, f"No such {scope.partition(':')[0] or resource.singular}.")
    body, cursors, data = page
    if query.count:
        count, _ = cached(resource.table, f"count:{scope}:{query.count_key()}", lambda: _count(resource, query))
        body = _encoded({**data, "count": count})
    response = _cached_json(body, status)
    links = page_links(cursors)
    if links:
        response.headers["Link"] = links
    return response


def _count(resource: Resource, query: ListQuery):
    with without_transaction():
        return counts(resource, query)


def get_row(resource: Resource, id: int):
    """The row for a write, or 404. Ids past the column's range simply do not exist."""
    row = resource.get(id) if id <= MAX_ID else None
    if row is None:
        raise ApiError(404, f"No {resource.singular} with id {id}.")
    return row


def check_if_match(resource: Resource, row) -> None:
    """A stale If-Match means the client edited an old copy: refuse before writing."""
    # Strong comparison (RFC 9110): a weak W/"n" never matches here.
    if request.if_match and not request.if_match.contains(str(row.version)):
        raise ApiError(412, f"The {resource.singular} changed since you read it (now version "
                            f"{row.version}); read it again and reapply your change.",
                       current_version=row.version)


def item_response(data: dict, status: int = 200):
    response = jsonify(data)
    response.status_code = status
    response.set_etag(str(data["version"]))
    return response


# The declarations' rules about who may do what to their own account (an
# admin may not demote or delete themselves in the admin pages, where it would
# lock them out mid-session) do not apply to tokens: a script acting on its own
# user does so deliberately, and loses nothing it cannot get back.
ACTOR = None


def commit(resource: Resource, form=None, row=None) -> dict | None:
    """Commit the request's transaction, turning races into the right 4xx.

    Returns `row` as the API shows it (None without a row), read once it is
    flushed and before the commit expires it: every serialised column is then
    known (ids come back from the INSERT, defaults and versions are made here),
    so the answer costs no query of its own. A column the database changes on
    its own (a trigger) would be read back if declared with server_default or
    server_onupdate; none of the serialised ones is.
    """
    try:
        data = None
        if row is not None:
            db.session.flush()
            data = resource.serialize(row)
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
    return data


def conflict(taken: dict[str, str]) -> ApiError:
    fields = ", ".join(sorted(taken))
    return ApiError(409, f"Already taken: {fields}.", errors={k: [v] for k, v in taken.items()})


def save(resource: Resource, form, row):
    problems = resource.edit_problems(row, form, ACTOR)
    if problems:
        raise invalid({name: [message] for name, message in problems.items()})
    taken = resource.conflicts(form, row)
    if taken:
        raise conflict(taken)
    resource.apply(row, form)
    db.session.add(row)
    return commit(resource, form, row)


# --- the views ---------------------------------------------------------------

def list_view(resource: Resource):
    query = list_args(resource)
    if wants_csv():
        return csv_response(resource, query)
    return list_response(resource, query)


def scoped_list_view(resource: Resource, reference: str, parent: Resource, id: int):
    query = list_args(resource, fixed={reference: id})
    if wants_csv():
        if id > MAX_ID or parent.get(id) is None:
            raise ApiError(404, f"No such {parent.singular}.")
        return csv_response(resource, query)
    # An unknown parent is a 404 rather than an empty list. The page is cached in
    # the resource's namespace, which deleting the parent invalidates too.
    return list_response(resource, query, scope=f"{parent.singular}:{id}",
                         exists=lambda: id <= MAX_ID and parent.get(id) is not None)


def get_view(resource: Resource, id: int):
    item, status = cached(resource.table, f"item:{id}", lambda: _load(resource, id),
                          prepare=lambda data: (_encoded(data), str(data["version"])))
    if item is None:
        raise ApiError(404, f"No {resource.singular} with id {id}.")
    body, version = item
    if request.if_none_match.contains_weak(version):
        return _cached_json(None, status, etag=version, status=304)
    return _cached_json(body, status, etag=version)


def _load(resource: Resource, id: int) -> dict | None:
    try:
        with without_transaction():
            return resource.serialize(get_row(resource, id))
    except ApiError:
        return None  # not cached: the next read looks again


def create_view(resource: Resource):
    form = validate(resource, read_json_object())
    data = save(resource, form, resource.model())
    response = item_response(data, 201)
    response.headers["Location"] = url_for(f"api.{resource.name}_get", id=data["id"])
    return response


def update_view(resource: Resource, id: int, full: bool):
    body = read_json_object()
    row = get_row(resource, id)
    check_if_match(resource, row)
    form = validate(resource, body, current=resource.writable_values(row), full=full)
    return item_response(save(resource, form, row))


def delete_view(resource: Resource, id: int):
    cascades = any(dependent.on_delete == DELETE for dependent in resource.dependents)
    for name in request.args:
        if not (cascades and name == "cascade"):
            raise bad_parameter(name, "unknown parameter")
    try:
        confirmed = boolean("cascade", request.args.get("cascade", "false"))
    except BadParameter as error:
        raise bad_parameter(error.name, error.message) from None
    row = get_row(resource, id)
    check_if_match(resource, row)
    refusal = resource.delete_refusal(row, ACTOR)
    if refusal:
        raise ApiError(409, refusal)
    try:
        resource.delete(row, confirmed=confirmed)
    except DependentsRemain as remaining:
        what = ", ".join(f"{count} {name}" for name, count in remaining.counts.items())
        raise ApiError(409, f"The {resource.singular} {row.id} still has {what}; delete or reassign them first, "
                            "or repeat with ?cascade=true to delete them too.", dependents=remaining.counts) from None
    commit(resource)
    return Response(status=204)


def register(resource: Resource) -> None:
    """Add the standard routes for `resource`, and its scoped lists, to the API blueprint."""
    base, item, name = f"/{resource.name}", f"/{resource.name}/<int:id>", resource.name
    bp.add_url_rule(base, f"{name}_list", lambda: list_view(resource), methods=["GET"])
    bp.add_url_rule(base, f"{name}_create", lambda: create_view(resource), methods=["POST"])
    bp.add_url_rule(item, f"{name}_get", lambda id: get_view(resource, id), methods=["GET"])
    bp.add_url_rule(item, f"{name}_patch", lambda id: update_view(resource, id, full=False), methods=["PATCH"])
    bp.add_url_rule(item, f"{name}_put", lambda id: update_view(resource, id, full=True), methods=["PUT"])
    bp.add_url_rule(item, f"{name}_delete", lambda id: delete_view(resource, id), methods=["DELETE"])
    for reference, target in resource.relations.items():
        parent = REGISTRY[target]
        bp.add_url_rule(f"/{parent.name}/<int:id>/{name}", f"{parent.singular}_{name}",
                        lambda id, reference=reference, parent=parent: scoped_list_view(resource, reference, parent, id),
                        methods=["GET"])


for _resource in REGISTRY.values():
    register(_resource)
