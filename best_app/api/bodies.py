"""Request bodies: read the JSON, gate its types, then validate with the form.

The form (best_app.forms) holds every rule. Before it sees the data, a type
gate derived from the form's field classes rejects values of the wrong JSON
type ("done": "yes", "owner_id": "x"), which the HTML-minded form would
otherwise coerce or trip over, and fields the resource does not accept.

Reading is strict too: a key given twice is refused rather than letting the
last one win (`"is_admin": false, "is_admin": true` would otherwise slip past
a reviewer's eye), and so is nesting deeper than MAX_DEPTH, which the parser
would only stop at the interpreter's recursion limit, as a 500.
"""
from __future__ import annotations

import json
import re

from flask import request
from werkzeug.datastructures import MultiDict

from best_app.api.problems import ApiError, invalid
from best_app.resources import Resource


# Our bodies are flat objects; this leaves room for any JSON a client could mean.
MAX_DEPTH = 32
_TOKEN = re.compile(rb'["\[\]{}]')
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # what follows an opening quote


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """How deeply arrays and objects nest in `raw`, counted up to `limit` + 1.

    A scan, not a parse: brackets inside strings are skipped, and each byte is
    looked at once, so it cannot recurse or backtrack whatever the input.
    Malformed input gets some answer; the parser then says what is wrong.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return 0  # cannot be too deep: the common case costs two counts
    depth = deepest = 0
    position = 0
    while deepest <= limit and (token := _TOKEN.search(raw, position)):
        character, position = token.group(), token.end()
        if character == b'"':
            rest = _STRING_REST.match(raw, position)
            if rest is None:
                break  # an unterminated string: the parser will refuse it
            position = rest.end()
        elif character in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for key, _value in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


def read_json_object() -> dict:
    if not request.is_json:
        raise ApiError(415, "Send the body as JSON with 'Content-Type: application/json'.")
    raw = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH this raises 413
    too_deep = ApiError(400, f"The body nests arrays and objects more than {MAX_DEPTH} levels deep.")
    if nesting_depth(raw) > MAX_DEPTH:
        raise too_deep
    try:
        body = json.loads(raw, object_pairs_hook=_unique_keys)
    except RecursionError:  # only if the scan misread an exotic encoding (UTF-16 or -32)
        raise too_deep from None
    except DuplicateKey as error:
        raise ApiError(400, f"The body gives the key {error.key!r} more than once; give each key once.",
                       errors={error.key: ["Given more than once."]}) from None
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
    body = {name: resource.specs[name].from_json(value) for name, value in body.items()}
    merged = body if full or current is None else {**current, **body}
    formdata = MultiDict({name: ("" if value is None else value) for name, value in merged.items()})
    # The row's values of the fields given, as the form's data too: a field may
    # trust a value the row already holds (UserRefField does not look its user up
    # again). Only those given: a field missing from the form data would keep it.
    known = None if current is None else {name: current[name] for name in merged if name in current}
    form = resource.form(formdata=formdata, data=known, meta={"csrf": False})
    if not form.validate():
        errors = {name: list(messages) for name, messages in form.errors.items() if name in resource.specs}
        raise invalid(errors or {"body": ["Invalid."]})
    return form
