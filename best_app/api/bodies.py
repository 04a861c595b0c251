"""Request bodies: read the JSON, gate its types, then validate with the form.

The form (best_app.forms) holds every rule. Before it sees the data, a type
gate derived from the form's field classes rejects values of the wrong JSON
type ("done": "yes", "owner_id": "x"), which the HTML-minded form would
otherwise coerce or trip over, and fields the resource does not accept.
"""
from __future__ import annotations

import json

from flask import request
from werkzeug.datastructures import MultiDict

from best_app.api.problems import ApiError, invalid
from best_app.api.resource import Resource


def read_json_object() -> dict:
    if not request.is_json:
        raise ApiError(415, "Send the body as JSON with 'Content-Type: application/json'.")
    raw = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH this raises 413
    try:
        body = json.loads(raw)
    except ValueError as error:  # also bad UTF-8
        raise ApiError(400, f"The body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise invalid({"body": ["Must be a JSON object."]}, "The body must be a JSON object.")
    return body


def check_fields(resource: Resource, body: dict) -> None:
    errors = {}
    for name, value in body.items():
        spec = resource.specs.get(name)
        if spec is None:
            read_only = name in resource.fields
            errors[name] = ["Read-only field." if read_only else "Unknown field."]
        elif (message := spec.type_error(value)) is not None:
            errors[name] = [message]
    if errors:
        raise invalid(errors)


def validate(resource: Resource, body: dict, *, current: dict | None = None, full: bool = True):
    """The validated form for `body`.

    `current` holds the row's present values: a partial update (full=False)
    is merged onto them, then the whole result is validated like a new row.
    """
    check_fields(resource, body)
    merged = dict(body) if full or current is None else {**current, **body}
    formdata = MultiDict({name: ("" if value is None else value) for name, value in merged.items()})
    form = resource.form(formdata=formdata, meta={"csrf": False})
    if not form.validate():
        errors = {name: list(messages) for name, messages in form.errors.items() if name in resource.specs}
        raise invalid(errors or {"body": ["Invalid."]})
    return form
