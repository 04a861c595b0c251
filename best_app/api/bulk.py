"""POST /api/v1/<resource>/bulk: one of the resource's bulk actions over many rows, in one transaction.

The body names the action, its argument if it takes one (assignee_id,
owner_id), and the rows: `ids`, `items` (ids with the version the client
read: a row whose version differs is a conflict, left alone, as If-Match
would be) and/or `filter` (the list's `q` and filters; with ids or items it
narrows them). The answer is each row's outcome and the totals. The work is
best_app.resources.bulk's; this module reads the body and answers.
"""
from __future__ import annotations

from dataclasses import replace

from flask import jsonify
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from best_app.api import bp
from best_app.api.bodies import read_json_object
from best_app.api.crud import ACTOR, commit
from best_app.api.problems import ApiError, invalid
from best_app.extensions import db
from best_app.forms import MAX_ID
from best_app.resources import REGISTRY, Resource
from best_app.resources.bulk import AMBIGUOUS, MAX_ROWS, OUTCOMES, BadArgument, BulkRun, TooMany, check_argument, matching
from best_app.resources.declaration import DELETE, BulkAction
from best_app.resources.params import TEXT_PATTERN, BadParameter
from best_app.resources.query import MAX_SEARCH, parse_list_args

SELECTION = ("ids", "items", "filter")


def _cascades(resource: Resource, action: BulkAction) -> bool:
    return action.delete and any(d.on_delete == DELETE for d in resource.dependents)


def _is_id(value) -> bool:
    # JSON (and its Schema) counts 7.0 as the integer 7.
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return integral and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _action(resource: Resource, body: dict) -> BulkAction:
    action = resource.bulk_action(body["action"]) if isinstance(body.get("action"), str) else None
    if action is None:
        names = ", ".join(a.name for a in resource.bulk_actions)
        raise invalid({"action": [f"Must be one of {names}."]})
    return action


def _selection(resource: Resource, body: dict, errors: dict) -> dict[int, int | None]:
    """id -> the version the client read (None: any), from ids and items."""
    expected: dict[int, int | None] = {}
    ids, items = body.get("ids", []), body.get("items", [])
    if not isinstance(ids, list) or not all(_is_id(value) for value in ids):
        errors["ids"] = [f"Must be an array of ids (integers from 1 to {MAX_ID})."]
    else:
        expected.update(dict.fromkeys(map(int, ids)))
    if not isinstance(items, list) or not all(
            isinstance(item, dict) and set(item) == {"id", "version"} and _is_id(item["id"])
            and _is_id(item["version"]) for item in items):
        errors["items"] = ['Must be an array of {"id": <id>, "version": <version read>}.']
    else:
        for item in items:
            row_id, version = int(item["id"]), int(item["version"])
            # Given twice with different versions, a row cannot match both: a conflict.
            expected[row_id] = version if expected.get(row_id) in (None, version) else AMBIGUOUS
    if len(expected) > MAX_ROWS:
        errors.setdefault("ids", []).append(f"At most {MAX_ROWS:,} rows per request.")
    return expected


def _filtered(resource: Resource, raw) -> list[int]:
    if not isinstance(raw, dict):
        raise invalid({"filter": ["Must be an object of the list's query parameters (q and its filters)."]})
    args = MultiDict()
    for name, value in raw.items():
        if name != "q" and name not in resource.filters:
            raise invalid({f"filter.{name}": ["Unknown filter."]})
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)) and float(value).is_integer():
            value = str(int(value))
        elif not isinstance(value, str):
            raise invalid({f"filter.{name}": ["Must be a string, a number or a boolean."]})
        args[name] = value
    try:
        return matching(resource, parse_list_args(resource, args))
    except BadParameter as error:
        raise invalid({f"filter.{error.name}": [error.message]}) from None
    except TooMany as error:
        raise invalid({"filter": [str(error)]}, str(error)) from None


def bulk_view(resource: Resource):
    body = read_json_object()
    action = _action(resource, body)
    allowed = {"action", *SELECTION, *((action.argument,) if action.argument else ()),
               *(("cascade",) if _cascades(resource, action) else ())}
    errors = {name: ["Unknown field." if name not in _every_argument(resource) else
                     f"Not taken by the action {action.name!r}."] for name in body if name not in allowed}
    if not any(name in body for name in SELECTION):
        errors["ids"] = ["Give the rows: ids, items or filter."]
    cascade = body.get("cascade", False)
    if not isinstance(cascade, bool):
        errors["cascade"] = ["Must be true or false."]
    expected = _selection(resource, body, errors)
    value = None
    if action.argument:
        spec = resource.specs[action.argument]
        raw = body.get(action.argument)
        problem = "Required by this action." if raw is None else spec.type_error(raw)
        if problem:
            errors[action.argument] = [problem]
        else:
            try:
                value = check_argument(resource, action, spec.from_json(raw))
            except BadArgument as error:
                errors[error.name] = [error.message]
    if errors:
        raise invalid(errors)
    run = _run(resource, action, expected, body, value, cascade)
    try:
        result = run.apply()
    except (IntegrityError, StaleDataError):
        # A row changed, or a row it refers to went, while this ran: nothing is written.
        db.session.rollback()
        raise ApiError(409, "Another change was saved at the same moment (for example, the chosen user was "
                            "deleted), so nothing was changed; read the rows again and repeat.") from None
    commit(resource)
    return jsonify({"action": action.name, "results": [outcome.as_json() for outcome in result.outcomes],
                    "totals": result.totals()})


def _run(resource, action, expected, body, value, cascade) -> BulkRun:
    if "filter" in body:
        matched = _filtered(resource, body["filter"])
        if "ids" in body or "items" in body:  # the named rows that also match
            expected = {row_id: version for row_id, version in expected.items() if row_id in set(matched)}
        else:
            expected = dict.fromkeys(matched)
    return BulkRun(resource, action, expected, value=value, actor=ACTOR, cascade=cascade)


def _every_argument(resource: Resource) -> set[str]:
    return {a.argument for a in resource.bulk_actions if a.argument} | {"cascade"}


def register(resource: Resource) -> None:
    if resource.bulk_actions:
        bp.add_url_rule(f"/{resource.name}/bulk", f"{resource.name}_bulk", lambda: bulk_view(resource),
                        methods=["POST"])


for _resource in REGISTRY.values():
    register(_resource)


# -- the OpenAPI document ----------------------------------------------------------

def _action_schema(resource: Resource, action: BulkAction, filter_schema: dict, argument_schema) -> dict:
    ids = {"type": "array", "maxItems": MAX_ROWS, "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
           "description": "The rows, whatever their version."}
    items = {"type": "array", "maxItems": MAX_ROWS, "description": "The rows with the version you read: a row "
             "whose version differs now is a `conflict`, left alone.",
             "items": {"type": "object", "additionalProperties": False, "required": ["id", "version"],
                       "properties": {"id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                      "version": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}}}
    properties = {"action": {"type": "string", "const": action.name}, "ids": ids, "items": items,
                  "filter": filter_schema}
    required = ["action"]
    if action.argument:
        # Required, and never null: unsetting is an action of its own (unassign).
        properties[action.argument] = argument_schema(resource, replace(resource.specs[action.argument],
                                                                        nullable=False))
        required.append(action.argument)
    if _cascades(resource, action):
        cascades = ", ".join(d.resource for d in resource.dependents if d.on_delete == DELETE)
        properties["cascade"] = {"type": "boolean", "default": False,
                                 "description": f"Also delete their {cascades}; without it such rows are `refused`."}
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties,
            "description": f"{action.label}. Give ids, items and/or filter (with ids or items, the filter "
                           "narrows them).",
            "anyOf": [{"required": [name]} for name in SELECTION]}


def openapi_paths(responses, ref) -> tuple[dict, dict]:
    """(paths, component schemas) of the bulk routes, built with the document's helpers."""
    from best_app.api.openapi import enum_name, filter_schema, input_schema

    outcome = {"type": "object", "additionalProperties": False, "required": ["id", "outcome", "version"],
               "properties": {"id": {"type": "integer"}, "outcome": ref("BulkOutcomeKind"),
                              "version": {"type": ["integer", "null"],
                                          "description": "After the change; else the row's current version."},
                              "reason": {"type": "string"}}}
    schemas = {"BulkOutcomeKind": {"type": "string", "enum": list(OUTCOMES),
                                   "x-enum-varnames": [name.upper() for name in OUTCOMES]},
               "BulkOutcome": outcome,
               "BulkResult": {"type": "object", "additionalProperties": False,
                              "required": ["action", "results", "totals"],
                              "properties": {"action": {"type": "string"},
                                             "results": {"type": "array", "items": ref("BulkOutcome")},
                                             "totals": {"type": "object", "additionalProperties": False,
                                                        "required": list(OUTCOMES),
                                                        "properties": {k: {"type": "integer"} for k in OUTCOMES}}}}}
    paths = {}
    for resource in REGISTRY.values():
        if not resource.bulk_actions:
            continue
        title = resource.singular.capitalize()
        filters = {"q": {"type": "string", "maxLength": MAX_SEARCH, "pattern": TEXT_PATTERN}}
        for name, filter_ in resource.filters.items():
            spec = resource.specs.get(name)
            filters[name] = (ref(enum_name(resource, name)) if spec is not None and spec.enum is not None
                             else filter_schema(filter_.schema()))
        filter_object = {"type": "object", "additionalProperties": False, "properties": filters,
                         "description": f"Every row the list of {resource.name} would show with these "
                                        f"parameters; more than {MAX_ROWS:,} is a 422."}
        variants = []
        for action in resource.bulk_actions:
            name = f"{title}Bulk{''.join(part.capitalize() for part in action.name.split('_'))}"
            schemas[name] = _action_schema(resource, action, filter_object, input_schema)
            variants.append(name)
        schemas[f"{title}Bulk"] = {"oneOf": [ref(name) for name in variants],
                                   "discriminator": {"propertyName": "action", "mapping": {
                                       action.name: f"#/components/schemas/{name}"
                                       for action, name in zip(resource.bulk_actions, variants)}}}
        paths[f"/api/v1/{resource.name}/bulk"] = {"post": {
            "operationId": f"bulk_{resource.name}", "tags": [resource.name],
            "summary": f"One action on many {resource.name}, in one transaction",
            "description": "Each row's outcome: `changed`, `unchanged` (already so), `conflict` (its version "
                           "differs from the one given in `items`), `not_found`, or `refused` (with the reason). "
                           "Any error writes nothing.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(f"{title}Bulk")}}},
            "responses": responses({"200": {"description": "What happened to each row.",
                                            "content": {"application/json": {"schema": ref("BulkResult")}}}},
                                   400, 401, 403, 409, 412, 413, 415, 422)}}
    return paths, schemas
