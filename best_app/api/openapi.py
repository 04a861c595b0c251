"""The OpenAPI 3.1 document and the interactive docs page.

The document is built from the declarations the code runs on: the resource
registry (fields, filters, sorts, search, references, unique fields, delete
rules) and the forms' fields (types, lengths, patterns, choices), so it cannot
drift from what the API accepts. It is written for client generators too:
every operation has an operationId, every enum is a named component whose
members have names (x-enum-varnames), and every failure is problem+json.
"""
from __future__ import annotations

from flask import jsonify, render_template
from sqlalchemy import Boolean, DateTime, Integer

from best_app.api import bp, bulk, history
from best_app.api.bodies import MAX_DEPTH
from best_app.forms import MAX_ID
from best_app.resources import REGISTRY, Resource
from best_app.resources.declaration import DELETE
from best_app.resources.fields import FieldSpec
from best_app.resources.query import DEFAULT_LIMIT, MAX_LIMIT, MAX_SEARCH, PAGE_PARAMS
from best_app.resources.params import TEXT_PATTERN

PREFIX = "/api/v1"
PROBLEMS = {
    400: "A bad query parameter (named in `parameter`) or cursor; a body that is not JSON, nests arrays and "
         f"objects more than {MAX_DEPTH} levels deep, or gives a key twice (named in `errors`).",
    401: "No valid bearer token (missing, unknown or revoked).",
    403: "The token's user is not an admin: it may only read.",
    404: "No such resource.",
    409: "A conflict: a unique field already taken (named in `errors`), rows that would go with a deletion "
         "(counted in `dependents`), or a deletion the rules refuse.",
    412: "If-Match names a version that is no longer current: nothing was written. This is checked before "
         "the body is validated.",
    413: "The body is larger than 64 KiB.",
    410: "The change feed's cursor is older than the retained log (`pruned_before` says from when): read the "
         "data again, then follow the feed from its start.",
    415: "The body is not sent as application/json.",
    422: "Invalid fields, named in `errors`; unknown fields and wrong JSON types included.",
}
TRIMMED = ("Leading and trailing whitespace is trimmed before validation; the pattern and lengths "
           "describe the trimmed value.")


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, media: str = "application/json") -> dict:
    return {media: {"schema": schema}}


def _varname(value: str) -> str:
    return (value.lstrip("-") + ("_desc" if value.startswith("-") else "")).upper()


def _enum(values, description: str) -> dict:
    values = list(values)
    return {"type": "string", "enum": values, "x-enum-varnames": [_varname(v) for v in values],
            "description": description}


def enum_name(resource: Resource, field: str) -> str:
    return "".join(part.capitalize() for part in field.split("_"))


def enum_schemas() -> dict:
    """Every choice field as one named component (a user's Role), used by reads, writes and filters alike."""
    schemas = {}
    for resource in REGISTRY.values():
        for name, spec in resource.specs.items():
            if spec.enum is not None:
                schemas[enum_name(resource, name)] = _enum(spec.enum, f"A {resource.singular}'s {name}.")
        sorts = [*resource.sorts, *(f"-{s}" for s in resource.sorts)]
        schemas[f"{resource.singular.capitalize()}Sort"] = _enum(sorts, "A sort field; '-' for descending.")
    schemas["HealthStatus"] = _enum(["ok", "fail"], "Whether this replica, or one dependency, can serve.")
    return schemas


def _nullable(schema: dict, nullable: bool) -> dict:
    if not nullable:
        return schema
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def column_schema(resource: Resource, name: str) -> dict:
    spec = resource.specs.get(name)
    if spec is not None and spec.enum is not None:
        return _ref(enum_name(resource, name))
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


def input_schema(resource: Resource, spec: FieldSpec) -> dict:
    if spec.enum is not None:
        return _ref(enum_name(resource, spec.name))
    schema = {"type": spec.type}
    if spec.type == "integer":
        schema.update(minimum=1, maximum=MAX_ID)
    for key, value in (("minLength", spec.min_length), ("maxLength", spec.max_length), ("pattern", spec.pattern),
                       ("format", spec.format)):
        if value is not None:
            schema[key] = value
    if spec.not_pattern is not None:
        schema["not"] = {"pattern": spec.not_pattern}
    if spec.trimmed:
        schema["description"] = TRIMMED
    return _nullable(schema, spec.nullable)


def count_schema() -> dict:
    number = {"type": "object", "additionalProperties": False, "required": ["value", "exact", "estimated"],
              "properties": {"value": {"type": "integer"}, "exact": {"type": "boolean"},
                             "estimated": {"type": "boolean", "description": "The planner's estimate."}}}
    return {"type": "object", "additionalProperties": False, "required": ["matching", "total"],
            "description": "With count=true: how many items match (exact up to 10,000, else at least that) and "
                           "how many there are (exact, or PostgreSQL's estimate on large tables).",
            "properties": {"matching": number, "total": number}}


def resource_schemas(resource: Resource) -> dict:
    title = resource.singular.capitalize()
    properties = {name: input_schema(resource, spec) for name, spec in resource.specs.items()}
    for name in resource.write_only:
        properties[name]["writeOnly"] = True
    required = [name for name, spec in resource.specs.items() if spec.required]
    cursor = {"type": ["string", "null"]}
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
        f"{title}Page": {"type": "object", "additionalProperties": False,
                         "required": ["items", "next_cursor", "prev_cursor"],
                         "properties": {"items": {"type": "array", "items": _ref(title)}, "next_cursor": cursor,
                                        "prev_cursor": cursor, "count": _ref("Count")}},
    }


def _responses(ok: dict, *problems: int) -> dict:
    responses = dict(ok)
    for status in problems:
        responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    responses["default"] = {"$ref": "#/components/responses/Problem"}
    return responses


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def filter_schema(schema: dict) -> dict:
    """A filter's schema with its type stated inside every alternative: client
    generators type {"type": "string", "anyOf": [{"format": "date"}, ...]} as
    "anything", but [{"type": "string", "format": "date"}, ...] as a date or a
    date-time. The two say the same to a validator."""
    key = next((key for key in ("anyOf", "oneOf") if key in schema), None)
    if key is None or "type" not in schema:
        return schema
    outer = {k: v for k, v in schema.items() if k not in (key, "type")}
    return {**outer, key: [{"type": schema["type"], **branch} for branch in schema[key]]}


def list_parameters(resource: Resource, fixed: str | None = None) -> list[dict]:
    searched = list(resource.search) + [f"the {field.removesuffix('_id')}'s {', '.join(REGISTRY[target].search)}"
                                        for field, target in resource.relations.items()
                                        if field in resource.search_relations]
    parameters = [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
               "Items per page."),
        _query("cursor", {"type": "string", "minLength": 1},
               "`next_cursor` or `prev_cursor` of a page of this list (same sort), or the Link header's "
               "rel=last. Only a cursor this list issued is valid: any other is a 400."),
        _query("sort", _ref(f"{resource.singular.capitalize()}Sort"), "Sort field; '-' for descending."),
        _query("q", {"type": "string", "maxLength": MAX_SEARCH, "pattern": TEXT_PATTERN},
               f"Case-insensitive substring search over {'; '.join(searched)}."),
        _query("count", {"type": "boolean", "default": False}, "Add `count` to the page."),
    ]
    for name, filter_ in resource.filters.items():
        if name != fixed:
            schema = filter_schema(filter_.schema())
            spec = resource.specs.get(name)
            if spec is not None and spec.enum is not None:
                schema = _ref(enum_name(resource, name))
            parameters.append(_query(name, schema, filter_.describe()))
    assert not set(PAGE_PARAMS) & set(resource.filters), "a filter may not shadow a paging parameter"
    return parameters


def list_operation(resource: Resource, operation_id: str, summary: str, fixed: str | None = None) -> dict:
    title = resource.singular.capitalize()
    headers = {"Link": {"description": 'Other pages, as references relative to this server: rel="next", '
                                       '"prev", "first" and "last".', "schema": {"type": "string"}},
               "X-Cache": {"$ref": "#/components/headers/X-Cache"}}
    return {"operationId": operation_id, "summary": summary, "tags": [resource.name],
            "parameters": list_parameters(resource, fixed),
            "responses": _responses({"200": {"description": "A page of items.", "headers": headers,
                                             "content": _json(_ref(f"{title}Page"))}},
                                    400, 401, *((404,) if fixed else ()))}


def resource_paths(resource: Resource) -> dict:
    title, name, one = resource.singular.capitalize(), resource.name, resource.singular
    etag = {"ETag": {"$ref": "#/components/headers/ETag"}}
    item = {"description": f"The {one}.", "content": _json(_ref(title)), "headers": etag}
    body = lambda schema: {"required": True, "content": _json(_ref(schema))}  # noqa: E731
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    if_match = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                "description": "The ETag you read; if the row changed since, 412 and nothing is written. "
                               "It is checked before the body is validated, so a stale If-Match gets 412 "
                               "even with an invalid body."}
    conflict = (409,) if resource.unique else ()
    write_errors = (400, 401, 403, 404, *conflict, 412, 413, 415, 422)
    cascades = [d.resource for d in resource.dependents if d.on_delete == DELETE]
    delete_conflict = (409,) if cascades else ()
    delete = {"operationId": f"delete_{one}", "summary": f"Delete a {one}", "tags": [name], "parameters": [if_match],
              "responses": _responses({"204": {"description": "Deleted."}}, 400, 401, 403, 404, *delete_conflict, 412)}
    if cascades:
        delete["parameters"].append(_query("cascade", {"type": "boolean", "default": False},
                                           f"Also delete the {one}'s {', '.join(cascades)}, in the same transaction."))
        delete["description"] = f"A {one} that still has {', '.join(cascades)}: 409 unless cascade=true."
    paths = {
        f"{PREFIX}/{name}": {
            "get": list_operation(resource, f"list_{name}", f"List {name}"),
            "post": {"operationId": f"create_{one}", "summary": f"Create a {one}", "tags": [name],
                     "requestBody": body(f"{title}Input"),
                     "responses": _responses({"201": {**item, "headers": {**etag, "Location": {
                         "required": True, "description": "The new item's URL, relative to this server.",
                         "schema": {"type": "string"}}}}}, 400, 401, 403, *conflict, 413, 415, 422)},
        },
        f"{PREFIX}/{name}/{{id}}": {
            "parameters": [id_param],
            "get": {"operationId": f"get_{one}", "summary": f"Get a {one}", "tags": [name],
                    "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                                    "schema": {"type": "string"}}],
                    "responses": _responses({"200": {**item, "headers": {
                        **etag, "X-Cache": {"$ref": "#/components/headers/X-Cache"}}},
                        "304": {"description": "Not modified: the ETag in If-None-Match is current."}}, 401, 404)},
            "patch": {"operationId": f"update_{one}", "summary": f"Change some fields of a {one}", "tags": [name],
                      "parameters": [if_match], "requestBody": body(f"{title}Patch"),
                      "responses": _responses({"200": item}, *write_errors)},
            "put": {"operationId": f"replace_{one}", "summary": f"Replace a {one}", "tags": [name],
                    "parameters": [if_match], "requestBody": body(f"{title}Input"),
                    "responses": _responses({"200": item}, *write_errors)},
            "delete": delete,
        },
    }
    for field, target in resource.relations.items():
        parent = REGISTRY[target]
        operation = list_operation(resource, f"list_{parent.singular}_{name}", f"List a {parent.singular}'s {name}",
                                   fixed=field)
        paths[f"{PREFIX}/{parent.name}/{{id}}/{name}"] = {"parameters": [id_param], "get": operation}
    return paths


def health_schema() -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["status", "checks"], "properties": {
        "status": _ref("HealthStatus"),
        "checks": {"type": "object", "additionalProperties": _ref("HealthStatus"),
                   "description": "Each dependency (database, cache) by name."}}}


def meta_paths() -> dict:
    health = _json(_ref("Health"))
    retry = {"Retry-After": {"required": True, "description": "Seconds to wait before asking again.",
                             "schema": {"type": "string"}}}
    public = {"security": [], "tags": ["meta"]}
    return {
        f"{PREFIX}/health": {"get": {**public, "operationId": "health", "summary": "Can this replica serve?",
                                     "responses": {
                                         "200": {"description": "Healthy.", "content": health},
                                         "503": {"description": "A dependency is down (named in `checks`).",
                                                 "headers": retry, "content": health}}}},
        f"{PREFIX}/openapi.json": {"get": {**public, "operationId": "openapi_document", "summary": "This document",
                                           "responses": {"200": {"description": "OpenAPI 3.1.",
                                                                 "content": _json({"type": "object"})}}}},
        "/api/docs": {"get": {**public, "operationId": "api_docs",
                              "summary": "Interactive documentation (Swagger UI)", "responses": {
                                  "200": {"description": "An HTML page.",
                                          "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    }


def components() -> dict:
    problem = {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "parameter": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "dependents": {"type": "object", "additionalProperties": {"type": "integer"}},
        "current_version": {"type": "integer"}, "pruned_before": {"type": "string", "format": "date-time"}}}
    schemas = {"Problem": problem, "Count": count_schema(), "Health": health_schema(), **enum_schemas()}
    for resource in REGISTRY.values():
        schemas.update(resource_schemas(resource))
    problem_json = _json(_ref("Problem"), "application/problem+json")
    responses = {f"Problem{status}": {"description": description, "content": problem_json}
                 for status, description in PROBLEMS.items()}
    responses["Problem"] = {"description": "Any other failure (405, 500, and the proxy's 502, 503 and 504), "
                                           "also as problem+json.", "content": problem_json}
    responses["Problem401"]["headers"] = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
    return {
        "schemas": schemas,
        "responses": responses,
        "headers": {"ETag": {"description": "The row's version, quoted.", "required": True,
                             "schema": {"type": "string"}},
                    "X-Cache": {"description": "HIT, MISS or BYPASS (cache down).", "required": True,
                                "schema": {"type": "string", "enum": ["HIT", "MISS", "BYPASS"]}}},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "A token from `flask tokens create`. Any token may "
                                                      "read; writes need a token of an admin user (403)."}},
    }


def build_document() -> dict:
    paths = {}
    for resource in REGISTRY.values():
        paths.update(resource_paths(resource))
    paths.update(meta_paths())
    history_paths, history_schemas = history.openapi_paths(_responses, _query, _ref)
    paths.update(history_paths)
    parts = components()
    parts["schemas"].update(history_schemas)
    bulk_paths, bulk_schemas = bulk.openapi_paths(_responses, _ref)
    paths.update(bulk_paths)
    parts["schemas"].update(bulk_schemas)
    tags = [{"name": resource.name, "description": resource.description} for resource in REGISTRY.values()]
    return {
        "openapi": "3.1.0",
        "info": {"title": "best_app API", "version": "1",
                 "description": "Users, the cars they own and the tasks they work on. Errors are "
                                "application/problem+json (RFC 9457). Lists use keyset pagination: follow "
                                "`next_cursor` (or the Link header, references relative to this server) "
                                "until it is null.\n\nText fields are trimmed of leading and trailing "
                                "whitespace, then validated: no text field may hold a control character "
                                "(U+0000 to U+001F, U+007F), except that a multi-line field (a task's "
                                "description) may hold tab, line feed and carriage return. A body must be "
                                f"one JSON object, each key given once, nested at most {MAX_DEPTH} levels."},
        "servers": [{"url": "/", "description": "This server (paths include /api/v1)."}],
        "tags": [*tags, {"name": "changes", "description": "The change feed (docs/history.md)."},
                 {"name": "meta", "description": "Health, this document and its interactive page."}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": parts,
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
