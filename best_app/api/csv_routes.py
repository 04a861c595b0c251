"""CSV in the API: any list as a CSV download, and POST /<resource>/import.

A list answers CSV when asked with `format=csv` or `Accept: text/csv`
(format wins); the file holds every matching row, streamed, never one page
(best_app.csvio.export). An import takes a text/csv body of at most
CSV_IMPORT_MAX_BYTES, validates every row and applies all of them in one
transaction or none: 200 with the counts, 422 with the row errors (line,
field, message; the first MAX_ERRORS, `error_count` says how many in all),
400 for a file that is not CSV we can read, 413 past the size limit.
`dry_run=true` reports without writing; `overwrite=true` updates rows whose
version changed since the export.
"""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from best_app.api import bp
from best_app.api.problems import ApiError, bad_parameter
from best_app.csvio.export import MEDIA_TYPE
from best_app.csvio.importer import MAX_ERRORS, import_rows
from best_app.csvio.reader import FileProblem, read_csv, size_problem
from best_app.extensions import db
from best_app.history import set_actor
from best_app.resources import REGISTRY, Resource
from best_app.resources.params import BadParameter, boolean

FORMATS = ("json", "csv")
BYTES = "application/octet-stream"
# Accept headers under which a list is JSON (tests/api/test_fast_paths.py checks it).
PLAIN_ACCEPTS = frozenset({"*/*", "application/json"})


def wants_csv() -> bool:
    """Whether a list was asked for as CSV (format=csv, or Accept preferring text/csv)."""
    raw = request.args.get("format")
    if raw is not None:
        if raw not in FORMATS:
            raise bad_parameter("format", f"must be one of {', '.join(FORMATS)}")
        return raw == "csv"
    accept = request.headers.get("Accept")
    if not accept or accept in PLAIN_ACCEPTS:  # most clients: no need to parse the header
        return False
    return request.accept_mimetypes.best_match(["application/json", MEDIA_TYPE]) == MEDIA_TYPE


def _flag(name: str) -> bool:
    try:
        return boolean(name, request.args.get(name, "false"))
    except BadParameter as error:
        raise bad_parameter(error.name, error.message) from None


def import_view(resource: Resource):
    for name in request.args:
        if name not in ("dry_run", "overwrite"):
            raise bad_parameter(name, "unknown parameter; use dry_run, overwrite")
    dry_run, overwrite = _flag("dry_run"), _flag("overwrite")
    if request.mimetype not in (MEDIA_TYPE, BYTES):
        raise ApiError(415, "Send the file as the body with 'Content-Type: text/csv'.")
    limit = current_app.config["CSV_IMPORT_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        raise ApiError(413, size_problem(limit).message)
    request.max_content_length = limit  # this route's own limit, past the app's MAX_CONTENT_LENGTH
    identity = g.api_identity  # the changes are the token's, recorded as an import
    set_actor(f"token {identity.token_id} of user #{identity.user_id}", identity.user_id, "import")
    try:
        plan = import_rows(resource, read_csv(resource, request.get_data(), limit), dry_run=dry_run,
                           overwrite=overwrite)
    except FileProblem as problem:
        db.session.rollback()
        raise ApiError(problem.status, problem.message) from None
    if not plan.ok:
        db.session.rollback()
        raise ApiError(422, f"{plan.summary()} The first {min(plan.error_count, MAX_ERRORS)} errors are listed.",
                       **plan.as_json())
    if dry_run:
        db.session.rollback()
    else:
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise ApiError(409, "The import conflicts with a change made while it ran; nothing was "
                                "written. Try again.") from None
    return jsonify(plan.as_json())


def register(resource: Resource) -> None:
    bp.add_url_rule(f"/{resource.name}/import", f"{resource.name}_import", lambda: import_view(resource),
                    methods=["POST"])


for _resource in REGISTRY.values():
    register(_resource)


CSV_NOTE = ("Every matching row (limit and cursor are ignored), streamed; a header line names the columns "
            "(the item's fields). Text cells that start with =, +, -, @, a tab or a carriage return (after "
            "any single quotes) get one more single quote in front, so spreadsheets show them as text; the "
            "import takes it off again.")


def format_parameter(query, ref) -> dict:
    return query("format", ref("ListFormat"),
                 f"`csv`: the list as a CSV file (text/csv), as `Accept: text/csv` asks. {CSV_NOTE}")


def csv_content() -> dict:
    return {MEDIA_TYPE: {"schema": {"type": "string"}}}


def openapi_paths(responses, query, ref, enum) -> tuple[dict, dict]:
    """(paths, component schemas) of the import routes and the lists' format, built with the document's helpers."""
    result = {"type": "object", "required": ["dry_run", "applied", "created", "updated", "unchanged",
                                             "error_count", "errors"], "properties": {
        "dry_run": {"type": "boolean"}, "applied": {"type": "boolean"}, "created": {"type": "integer"},
        "updated": {"type": "integer"}, "unchanged": {"type": "integer"}, "error_count": {"type": "integer"},
        "errors": {"type": "array", "maxItems": MAX_ERRORS, "items": {"type": "object", "properties": {
            "line": {"type": "integer"}, "field": {"type": ["string", "null"]}, "message": {"type": "string"}}}}}}
    paths = {}
    for resource in REGISTRY.values():
        paths[f"/api/v1/{resource.name}/import"] = {"post": {
            "operationId": f"import_{resource.name}", "tags": [resource.name],
            "summary": f"Create and update {resource.name} from a CSV file, all or nothing",
            "description": "Rows without an id are created; a row with an id updates it if its `version` is "
                           "current (else the row is an error), unless overwrite=true. Missing columns keep "
                           "their values. Any error: 422, nothing written.",
            "parameters": [query("dry_run", {"type": "boolean", "default": False}, "Validate only; write nothing."),
                           query("overwrite", {"type": "boolean", "default": False},
                                 "Update rows even if their version changed since the export.")],
            # Declared as bytes: client generators know no text/csv body (openapi-python-client warns).
            "requestBody": {"required": True, "description": "The CSV file, UTF-8, sent as text/csv or "
                                                             "application/octet-stream.",
                            "content": {BYTES: {"schema": {"type": "string", "format": "binary"}}}},
            "responses": responses({"200": {"description": "Imported (or, with dry_run, would import).",
                                            "content": {"application/json": {"schema": result}}},
                                    "413": {"description": "The file is larger than CSV_IMPORT_MAX_BYTES."},
                                    "422": {"description": "Row errors (problem+json with the same members as "
                                                           "the 200 body); nothing was written."}},
                                   400, 401, 403, 415)}}
    return paths, {"ListFormat": enum(FORMATS, "A list's format: json (a page) or csv (every row).")}
