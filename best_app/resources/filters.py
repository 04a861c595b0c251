"""List filters: one query parameter each, read the same way by the API and the admin pages.

A filter knows its parameter's name, how to read a value (or refuse it with
BadParameter), the SQL clause it adds, its OpenAPI schema, and how the admin
filter panel offers and labels it. Resource declarations derive most of them
from their fields (every boolean, every choice, every reference to another
resource) and from their timestamps; see Resource.filters.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select

from best_app.forms import MAX_ID
from best_app.resources import params
from best_app.resources.params import BadParameter

NONE = "none"  # a reference filter's value for "not set" (unassigned tasks)


@dataclass
class Filter:
    name: str
    label: str
    column: object = None

    kind = "text"  # how the admin panel offers it: select, ref, date or text

    def parse(self, raw: str):
        raise NotImplementedError

    def clause(self, value):
        return self.column == value

    def schema(self) -> dict:
        raise NotImplementedError

    def describe(self) -> str:
        return f"Only items whose {self.name} equals this."

    def options(self) -> list[tuple[str, str]]:
        """(value, label) pairs the admin panel offers, for a select."""
        return []

    def show(self, value) -> str:
        """The active filter as the admin panel shows it."""
        for raw, label in self.options():
            if self.parse(raw) == value:
                return label
        return str(value)

    def unparse(self, value) -> str:
        """The parameter value that gives back `value` (for links that keep the filter)."""
        return str(value)


@dataclass
class BooleanFilter(Filter):
    yes: str = "Yes"
    no: str = "No"
    kind = "select"

    def parse(self, raw: str) -> bool:
        return params.boolean(self.name, raw)

    def clause(self, value):
        return self.column.is_(value)

    def schema(self) -> dict:
        return {"type": "boolean"}

    def options(self):
        return [("true", self.yes), ("false", self.no)]

    def unparse(self, value) -> str:
        return "true" if value else "false"


@dataclass
class ChoiceFilter(Filter):
    choices: tuple = ()  # (value, label)
    kind = "select"

    def parse(self, raw: str) -> str:
        values = [value for value, _label in self.choices]
        if raw not in values:
            raise BadParameter(self.name, f"must be one of {', '.join(values)}")
        return raw

    def schema(self) -> dict:
        return {"type": "string", "enum": [value for value, _label in self.choices]}

    def options(self):
        return list(self.choices)


@dataclass
class TextFilter(Filter):
    max_length: int | None = None

    def parse(self, raw: str) -> str:
        return params.text(self.name, raw, self.max_length)

    def schema(self) -> dict:
        schema = {"type": "string", "pattern": params.TEXT_PATTERN}
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        return schema


@dataclass
class RefFilter(Filter):
    """A reference to another resource's row: its id, or "none" where it may be unset."""

    target: str = ""  # the referenced resource's name
    nullable: bool = False
    kind = "ref"

    def parse(self, raw: str):
        if self.nullable and raw == NONE:
            return None
        value = params.whole_number(raw)
        if value is None or not 1 <= value <= MAX_ID:
            also = f", or {NONE!r} for items without one" if self.nullable else ""
            raise BadParameter(self.name, f"must be an id from 1 to {MAX_ID}{also}")
        return value

    def clause(self, value):
        return self.column.is_(None) if value is None else self.column == value

    def schema(self) -> dict:
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        if self.nullable:
            return {"oneOf": [schema, {"type": "string", "enum": [NONE]}]}
        return schema

    def describe(self) -> str:
        also = f"; {NONE!r} for items without one" if self.nullable else ""
        return f"Only items whose {self.name} is this id{also}."

    def unparse(self, value) -> str:
        return NONE if value is None else str(value)

    def show(self, value) -> str:
        from best_app.resources import REGISTRY

        if value is None:
            return "none"
        return REGISTRY[self.target].title_of(value) or f"#{value}"


@dataclass
class DateFilter(Filter):
    """One end of a range on a timestamp: `after` is inclusive, `before` exclusive."""

    before: bool = False
    kind = "date"

    def parse(self, raw: str) -> datetime:
        return params.moment(self.name, raw)

    def clause(self, value):
        return self.column < value if self.before else self.column >= value

    def schema(self) -> dict:
        return {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}

    def describe(self) -> str:
        column = self.column.name
        if self.before:
            return f"Only items whose {column} is before this date (its start, UTC) or moment."
        return f"Only items whose {column} is at or after this date (its start, UTC) or moment."

    def show(self, value) -> str:
        return value.strftime("%Y-%m-%d") if value.time() == datetime.min.time() else value.isoformat()

    def unparse(self, value) -> str:
        return self.show(value)


@dataclass
class HasFilter(Filter):
    """Whether any row of another resource refers to this one (users with or without cars)."""

    child_fk: object = None  # the referring column, e.g. cars.owner_id
    parent_id: object = None  # this resource's id column
    counter: object = None  # a count of the referring rows kept on this row (users.car_count), if any
    kind = "select"
    options_: list = field(default_factory=list)

    def parse(self, raw: str) -> bool:
        return params.boolean(self.name, raw)

    def clause(self, value):
        if self.counter is not None:  # indexed, where an anti-join would read both tables
            return self.counter > 0 if value else self.counter == 0
        related = exists(select(1).where(self.child_fk == self.parent_id))
        return related if value else ~related

    def schema(self) -> dict:
        return {"type": "boolean"}

    def describe(self) -> str:
        child = self.child_fk.table.name
        return f"true: only items that have {child}; false: only items that have none."

    def options(self):
        return self.options_

    def unparse(self, value) -> str:
        return "true" if value else "false"
