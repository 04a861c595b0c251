"""Fields as JSON sees them, derived from the forms.

The forms (best_app.forms) hold every input rule. A FieldSpec is the JSON
view of one form field (type, nullability, lengths, pattern, choices) that
the API's type gate (best_app.api.bodies), the list filters and the OpenAPI
document read, so none of them restates a rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import email_validator
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Regexp

from best_app.forms import MAX_ID, PlainText, UserRefField, strip  # MAX_ID: the largest id a column can hold


def storable(text: str) -> bool:
    """Whether the database can store `text`: no NUL (PostgreSQL refuses it) and
    no lone surrogate, which JSON allows ("\\ud800") but UTF-8 cannot encode."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _integral(value) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


# email-validator refuses addresses at these (".test", ".localhost", ...); JSON
# Schema's "format": "email" allows them, so the document states it.
SPECIAL_USE_DOMAINS = f"[@.](?:{'|'.join(map(_any_case, email_validator.SPECIAL_USE_DOMAIN_NAMES))})$"
# A pattern that is one character class repeated (a username's): a text is part
# of some value it accepts exactly when all of its characters are in the class.
_ONE_CLASS = re.compile(r"^\^(\[[^\]]+\])(?:[+*]|\{\d+(?:,\d*)?\})\$$")


@dataclass(frozen=True)
class FieldSpec:
    """One writable field as JSON sees it, derived from a form field."""

    name: str
    type: str  # JSON Schema type: string, boolean or integer
    required: bool
    nullable: bool
    enum: tuple | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    trimmed: bool = False  # leading and trailing whitespace is removed before the rules apply
    not_pattern: str | None = None  # values matching this are refused

    def may_contain(self, text: str) -> bool:
        """Whether a value these rules accept could contain `text`, in any case.
        A search skips the columns that could not: "Dana Silva" is nobody's
        username or email, and each trigram index it would ask costs as much
        as the one that answers."""
        if self.format == "email" and any(char.isspace() for char in text):
            return False  # email-validator refuses whitespace (and quoted local parts)
        one_class = _ONE_CLASS.match(self.pattern or "")
        if one_class:
            return re.fullmatch(f"{one_class.group(1)}+", text, re.IGNORECASE) is not None
        return True

    def from_json(self, value):
        """`value`, of this field's type, as the form takes it: JSON (and its Schema)
        counts 7.0 as the integer 7, which the form reads as an int only."""
        return int(value) if self.type == "integer" and isinstance(value, float) else value

    def type_error(self, value) -> str | None:
        """Why `value` is not of this field's JSON type, or None if it is."""
        if value is None:
            ok = self.nullable
        elif self.type == "boolean":
            ok = isinstance(value, bool)
        elif self.type == "integer":
            ok = _integral(value) and 1 <= value <= MAX_ID
        else:
            if isinstance(value, str) and not storable(value):
                return "Must not contain NUL characters or unpaired surrogates."
            ok = isinstance(value, str)
        if ok:
            return None
        wanted = {"boolean": "true or false", "integer": f"an integer from 1 to {MAX_ID}",
                  "string": "a string"}[self.type]
        return f"Must be {wanted}{' or null' if self.nullable else ''}."


def field_spec(form_field) -> FieldSpec:
    """The JSON view of a form field: BooleanField is a boolean, UserRefField
    an integer id, SelectField a string from its choices, any StringField a
    string with the lengths, pattern and format its validators impose."""
    name, validators = form_field.name, form_field.validators
    required = any(isinstance(v, (DataRequired, InputRequired)) for v in validators)
    if isinstance(form_field, BooleanField):  # absent means false: never required, never null
        return FieldSpec(name, "boolean", required=False, nullable=False)
    if isinstance(form_field, UserRefField):
        return FieldSpec(name, "integer", required=required, nullable=not required)
    if isinstance(form_field, SelectField):  # absent means its default
        choices = tuple(value for value, *_ in form_field.iter_choices())
        return FieldSpec(name, "string", required=False, nullable=False, enum=choices)
    if not isinstance(form_field, StringField):
        raise TypeError(f"no JSON type for {type(form_field).__name__}")
    rules = {"min_length": 1 if required else None}
    plain_text = None
    for validator in validators:
        if isinstance(validator, Length):
            rules["min_length"] = max(validator.min, rules["min_length"] or 0) or None
            rules["max_length"] = validator.max if validator.max > 0 else None
        elif isinstance(validator, Regexp):
            rules["pattern"] = validator.regex.pattern
        elif isinstance(validator, PlainText):
            plain_text = validator
        elif isinstance(validator, Email):
            rules["format"] = "email"
            rules["not_pattern"] = SPECIAL_USE_DOMAINS
    trimmed = strip in form_field.filters
    if plain_text is not None and "pattern" not in rules:
        # A field's own pattern (a username's) is narrower than the plain-text rule,
        # and one pattern is all JSON Schema generators handle well.
        rules["pattern"] = plain_text.pattern(trimmed)
    return FieldSpec(name, "string", required=required, nullable=not required, trimmed=trimmed, **rules)
