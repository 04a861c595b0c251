"""The conflict panel of an edit page, and the merge that makes a second save safe.

An edit form carries, besides the row version, the values it was loaded with
(`original`, one hidden field holding JSON, so that line breaks in a text
area survive the browser). When someone else saved the row meanwhile,
nothing is written and the page shows, field by field, what is saved now
beside what the person entered. The fields the person did not change take
the other save's values in the form, the fields they did change keep their
entries, and the loaded values become the new ones: a second Save then
writes only the person's own changes over the other save.
"""
from __future__ import annotations

import json

from flask import abort, request

from best_app.forms import UserRefField
from best_app.resources import REGISTRY, Resource

ORIGINAL = "original"

# How a field stands: the same on both sides, or changed by the other save, by this person, by both;
# UNKNOWN when the form did not say what it was loaded with.
SAME, THEIRS, YOURS, BOTH, UNKNOWN = "same", "theirs", "yours", "both", "unknown"
NOTES = {THEIRS: "Changed by the other save; the form now has it.",
         YOURS: "Changed by you; your value is kept.",
         BOTH: "Changed by both; your value is kept and will replace theirs.",
         UNKNOWN: "Differs from your entry; your value is kept."}


def _fields(resource: Resource, form):
    return [form[name] for name in resource.writable if name not in resource.write_only]


def text_of(field) -> str:
    """A field's value as a string that compares equal for equal values, whichever way it was given."""
    if field.type == "BooleanField":
        return "true" if field.data else "false"
    if field.data is None:
        return ""
    return str(field.data).replace("\r\n", "\n")


def loaded_values(resource: Resource, row) -> dict[str, str]:
    """The values an edit form loaded from `row` starts from."""
    form = resource.form(formdata=None, obj=row, meta={"csrf": False})
    return {field.name: text_of(field) for field in _fields(resource, form)}


def posted_originals(resource: Resource) -> dict[str, str] | None:
    """The values the submitted form was loaded with, or None when it did not say.
    A malformed value is a 400 naming the field."""
    raw = request.form.get(ORIGINAL)
    if raw is None:
        return None
    try:  # (MAX_CONTENT_LENGTH bounds its size)
        values = json.loads(raw)
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise ValueError
    except (ValueError, RecursionError):
        abort(400, description=f"Form field '{ORIGINAL}' must hold the form's loaded values as a JSON object "
                               "of strings.")
    wanted = {field.name for field in _fields(resource, resource.blank_form())}
    return {name: value.replace("\r\n", "\n") for name, value in values.items() if name in wanted}


def shown(resource: Resource, field) -> str:
    """A field's value as a person reads it: a choice's label, Yes/No, the referenced row's title."""
    if field.type == "BooleanField":
        return "Yes" if field.data else "No"
    if field.data in (None, ""):
        return "—"
    if field.name in resource.relations:
        return REGISTRY[resource.relations[field.name]].title_of(field.data) or f"#{field.data}"
    if hasattr(field, "iter_choices"):
        for value, label, selected, *_ in field.iter_choices():
            if selected:
                return str(label)
    return text_of(field)


def merge(resource: Resource, row, form, originals: dict[str, str] | None) -> list[dict]:
    """After a conflict: fill the fields the person left alone with what is saved now, and
    return the panel's rows (label, saved, yours, state, note), one per field."""
    saved_form = resource.form(formdata=None, obj=row, meta={"csrf": False})
    rows = []
    for field in _fields(resource, form):
        saved, yours = saved_form[field.name], text_of(field)
        original = None if originals is None else originals.get(field.name)
        if text_of(saved) == yours:
            state = SAME
        elif original is None:
            state = UNKNOWN
        elif yours == original:
            state = THEIRS
        elif text_of(saved) == original:
            state = YOURS
        else:
            state = BOTH
        rows.append({"label": field.label.text, "saved": shown(resource, saved), "yours": shown(resource, field),
                     "state": state, "note": NOTES.get(state, ""), "id": field.id})
        if state == THEIRS:
            field.process(None, data=getattr(row, field.name))
            if isinstance(field, UserRefField):
                field.raw_value = None
    return rows
