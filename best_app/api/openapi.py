"""The OpenAPI 3.1 document and the interactive docs page.

The document is built from the declarations the code runs on: the resource
registry (fields, filters, sorts, search) and the forms' fields (types,
lengths, patterns, choices), so it cannot drift from what the API accepts.
"""
from __future__ import annotations

from flask import jsonify, render_template
from sqlalchemy import Boolean, DateTime, Integer

from best_app.api import bp
from best_app.api.crud import RESOURCES
from best_app.api.bodies import MAX_DEPTH
from best_app.api.listing import DEFAULT_LIMIT, MAX_LIMIT, MAX_SEARCH, TEXT_PATTERN
from best_app.api.resource import MAX_ID, FieldSpec, Resource

PREFIX = "/api/v1"
PROBLEMS = {
    304: "Not modified: the ETag in If-None-Match is current.",
    400: "A bad query parameter (named in `parameter`) or cursor; a body that is not JSON, nests arrays and "
         f"objects more than {MAX_DEPTH} levels deep, or gives a key twice (named in `errors`).",
    401: "No valid bearer token (missing, unknown or revoked).",
    403: "The token's user is not an admin: it may only read.",
    404: "No such resource.",
    409: "A conflict: a username or email already taken (named in `errors`), or a user who still owns "
         "cars (counted in `dependents`).",
    412: "If-Match names a version that is no longer current: nothing was written. This is checked before "
         "the body is validated.",
    413: "The body is larger than 64 KiB.",
    415: "The body is not sent as application/json.",
    422: "Invalid fields, named in `errors`; unknown fields and wrong JSON types included.",
}


TRIMMED = ("Leading and trailing whitespace is trimmed before validation; the pattern and lengths "
           "describe the trimmed value.")


def _nullable(schema: dict, nullable: bool) -> dict:
    return {**schema, "type": [schema["type"], "null"]} if nullable else schema


def column_schema(resource: Resource, name: str) -> dict:
    column = resource.column(name)
    column_type = column.type
    if isinstance(column_type, Boolean):
        schema = {"type": "boolean"}
    elif isinstance(column_type, Integer):
        schema = {"type": "integer"}
    elif isinstance(getattr(column_type, "impl", column_type), DateTime):
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string"}
    return _nullable(schema, column.nullable)


def input_schema(spec: FieldSpec) -> dict:
    schema = {"type": spec.type}
    if spec.type == "integer":
        schema.update(minimum=1, maximum=MAX_ID)
    for key, value in (("enum", spec.enum and list(spec.enum)), ("minLength", spec.min_length),
                       ("maxLength", spec.max_length), ("pattern", spec.pattern), ("format", spec.format)):
        if value is not None:
            schema[key] = value
    if spec.not_pattern is not None:
        schema["not"] = {"pattern": spec.not_pattern}
    if spec.trimmed:
        schema["description"] = TRIMMED
    if spec.nullable and "enum" not in schema:
        schema = _nullable(schema, True)
    return schema


def resource_schemas(resource: Resource) -> dict:
    title = resource.singular.capitalize()
    properties = {name: input_schema(spec) for name, spec in resource.specs.items()}
    for name in resource.write_only:
        properties[name]["writeOnly"] = True
    required = [name for name, spec in resource.specs.items() if spec.required]
    return {
        title: {"type": "object", "description": resource.description, "additionalProperties": False,
                "required": list(resource.fields),
                "properties": {name: column_schema(resource, name) for name in resource.fields}},
        f"{title}Input": {"type": "object", "additionalProperties": False, "required": required,
                          "properties": properties,
                          "description": "POST and PUT: every required field; omitted optional fields "
                                         "take their defaults."},
        f"{title}Patch": {"type": "object", "additionalProperties": False, "properties": properties,
                          "description": "PATCH: only the fields to change."},
        f"{title}Page": {"type": "object", "additionalProperties": False, "required": ["items", "next_cursor"],
                         "properties": {"items": {"type": "array", "items": _ref(title)},
                                        "next_cursor": {"type": ["string", "null"]}}},
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, media: str = "application/json") -> dict:
    return {media: {"schema": schema}}


def _responses(ok: dict, *problems: int) -> dict:
    responses = dict(ok)
    for status in problems:
        if status == 304:
            responses["304"] = {"description": PROBLEMS[304]}
        else:
            responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    return responses


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def filter_schema(spec: FieldSpec) -> dict:
    """A filter takes any value the field could hold, untrimmed: one that does not
    match simply finds nothing. Only control characters and excess length, which
    nothing stored has, are refused."""
    schema = {"type": spec.type}
    if spec.type == "integer":
        schema.update(minimum=1, maximum=MAX_ID)
    elif spec.enum is not None:
        schema["enum"] = list(spec.enum)
    elif spec.type == "string":
        schema["pattern"] = TEXT_PATTERN
        if spec.max_length is not None:
            schema["maxLength"] = spec.max_length
    return schema


def list_parameters(resource: Resource, fixed: str | None = None) -> list[dict]:
    sorts = [*resource.sorts, *(f"-{s}" for s in resource.sorts)]
    parameters = [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
               "Items per page."),
        _query("cursor", {"type": "string", "minLength": 1},
               "The `next_cursor` of the previous page (same sort). Only a cursor this list issued is "
               "valid: any other is a 400."),
        _query("sort", {"type": "string", "enum": sorts, "default": "id"}, "Sort field; '-' for descending."),
        _query("q", {"type": "string", "maxLength": MAX_SEARCH, "pattern": TEXT_PATTERN},
               f"Case-insensitive substring search over {', '.join(resource.search)}."),
    ]
    for name in resource.filters:
        if name != fixed:
            parameters.append(_query(name, filter_schema(resource.specs[name]),
                                     f"Only items whose {name} equals this."))
    return parameters


def list_operation(resource: Resource, summary: str, fixed: str | None = None) -> dict:
    title = resource.singular.capitalize()
    link = {"Link": {"description": 'The next page: <url>; rel="next".', "schema": {"type": "string"}},
            "X-Cache": {"$ref": "#/components/headers/X-Cache"}}
    return {"summary": summary, "tags": [resource.name], "parameters": list_parameters(resource, fixed),
            "responses": _responses({"200": {"description": "A page of items.", "headers": link,
                                             "content": _json(_ref(f"{title}Page"))}},
                                    400, 401, *((404,) if fixed else ()))}


def resource_paths(resource: Resource) -> dict:
    title, name = resource.singular.capitalize(), resource.name
    item = {"description": f"The {resource.singular}.", "content": _json(_ref(title)),
            "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}}
    body = lambda schema: {"required": True, "content": _json(_ref(schema))}  # noqa: E731
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    if_match = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                "description": "The ETag you read; if the row changed since, 412 and nothing is written. "
                               "It is checked before the body is validated, so a stale If-Match gets 412 "
                               "even with an invalid body."}
    conflict = (409,) if name == "users" else ()
    write_errors = (400, 401, 403, 404, *conflict, 412, 413, 415, 422)
    delete = {"summary": f"Delete a {resource.singular}", "tags": [name], "parameters": [if_match],
              "responses": _responses({"204": {"description": "Deleted."}}, 400, 401, 403, 404, *conflict, 412)}
    if resource.delete_params:
        delete["parameters"].append(_query("cascade", {"type": "string", "enum": ["true", "false"]},
                                           "Also delete the user's cars, in the same transaction."))
        delete["description"] = "A user who still owns cars: 409 unless cascade=true. Their tasks are unassigned."
    return {
        f"{PREFIX}/{name}": {
            "get": list_operation(resource, f"List {name}"),
            "post": {"summary": f"Create a {resource.singular}", "tags": [name], "requestBody": body(f"{title}Input"),
                     "responses": _responses({"201": {**item, "headers": {
                         **item["headers"], "Location": {"schema": {"type": "string"}}}}},
                         400, 401, 403, *conflict, 413, 415, 422)},
        },
        f"{PREFIX}/{name}/{{id}}": {
            "parameters": [id_param],
            "get": {"summary": f"Get a {resource.singular}", "tags": [name],
                    "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                                    "schema": {"type": "string"}}],
                    "responses": _responses({"200": {**item, "headers": {
                        **item["headers"], "X-Cache": {"$ref": "#/components/headers/X-Cache"}}}}, 304, 401, 404)},
            "patch": {"summary": f"Change some fields of a {resource.singular}", "tags": [name],
                      "parameters": [if_match], "requestBody": body(f"{title}Patch"),
                      "responses": _responses({"200": item}, *write_errors)},
            "put": {"summary": f"Replace a {resource.singular}", "tags": [name], "parameters": [if_match],
                    "requestBody": body(f"{title}Input"), "responses": _responses({"200": item}, *write_errors)},
            "delete": delete,
        },
    }


def extra_paths() -> dict:
    users_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    scoped = {}
    for resource, field in ((RESOURCES["cars"], "owner_id"), (RESOURCES["tasks"], "assignee_id")):
        operation = list_operation(resource, f"List a user's {resource.name}", fixed=field)
        scoped[f"{PREFIX}/users/{{id}}/{resource.name}"] = {"parameters": [users_id], "get": operation}
    health = {"type": "object", "properties": {"status": {"enum": ["ok", "fail"]},
                                               "checks": {"type": "object"}}}
    public = {"security": [], "tags": ["meta"]}
    return {
        **scoped,
        f"{PREFIX}/health": {"get": {**public, "summary": "Can this replica serve?", "responses": {
            "200": {"description": "Healthy.", "content": _json(health)},
            "503": {"description": "The database or the cache is down.", "content": _json(health)}}}},
        f"{PREFIX}/openapi.json": {"get": {**public, "summary": "This document", "responses": {
            "200": {"description": "OpenAPI 3.1.", "content": _json({"type": "object"})}}}},
        "/api/docs": {"get": {**public, "summary": "Interactive documentation (Swagger UI)", "responses": {
            "200": {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    }


def components() -> dict:
    problem = {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "parameter": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "dependents": {"type": "object", "additionalProperties": {"type": "integer"}},
        "current_version": {"type": "integer"}}}
    schemas = {"Problem": problem}
    for resource in RESOURCES.values():
        schemas.update(resource_schemas(resource))
    responses = {}
    for status, description in PROBLEMS.items():
        if status != 304:
            responses[f"Problem{status}"] = {"description": description,
                                             "content": _json(_ref("Problem"), "application/problem+json")}
    responses["Problem401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return {
        "schemas": schemas,
        "responses": responses,
        "headers": {"ETag": {"description": "The row's version, quoted.", "schema": {"type": "string"}},
                    "X-Cache": {"description": "HIT, MISS or BYPASS (cache down).",
                                "schema": {"type": "string", "enum": ["HIT", "MISS", "BYPASS"]}}},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "A token from `flask tokens create`. Any token may "
                                                      "read; writes need a token of an admin user (403)."}},
    }


def build_document() -> dict:
    paths = {}
    for resource in RESOURCES.values():
        paths.update(resource_paths(resource))
    paths.update(extra_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "best_app API", "version": "1",
                 "description": "Users, the cars they own and the tasks they work on. Errors are "
                                "application/problem+json (RFC 9457). Lists use keyset pagination: follow "
                                "`next_cursor` (or the Link header, a reference relative to this server) "
                                "until it is null.\n\nText fields are trimmed of leading and trailing "
                                "whitespace, then validated: no text field may hold a control character "
                                "(U+0000 to U+001F, U+007F), except that a multi-line field (a task's "
                                "description) may hold tab, line feed and carriage return. A body must be "
                                f"one JSON object, each key given once, nested at most {MAX_DEPTH} levels."},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": components(),
    }


@bp.get("/openapi.json")
def openapi():
    response = jsonify(build_document())
    response.headers["Cache-Control"] = "no-cache"
    return response


def docs():
    return render_template("api/docs.html")


# The docs page sits beside the versioned API, at /api/docs, outside the
# blueprint's prefix; it is public and needs no token.
bp.record_once(lambda state: state.app.add_url_rule("/api/docs", "api_docs", docs))
