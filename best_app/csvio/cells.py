"""Cells: how each column's value is written to CSV and read back.

Text columns are protected against spreadsheet formula injection (OWASP's
"CSV Injection"): a value that starts with '=', '+', '-', '@', a tab or a
carriage return (after any number of single quotes) is written with one more
single quote in front, so that a spreadsheet shows it as text. Reading takes
exactly one quote off such a value again, so every value survives a round
trip, "'=x" included. Numbers, booleans and timestamps are never escaped: a
-5 in a numeric column stays -5.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text

TEXT, INTEGER, BOOLEAN, WHEN = "text", "integer", "boolean", "when"
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes"), ("false", "0", "no", "")


def escape(text: str) -> str:
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def unescape(text: str) -> str:
    return text[1:] if _QUOTED.match(text) else text


def kind_of(column) -> str:
    """The cell kind of a table column, from its SQL type."""
    sql_type = getattr(column.type, "impl", column.type)
    if isinstance(sql_type, Boolean):
        return BOOLEAN
    if isinstance(sql_type, Integer):
        return INTEGER
    if isinstance(sql_type, (String, Text)):
        return TEXT
    return WHEN


def _text(value):
    return "" if value is None else escape(value)


def _plain(value):
    return "" if value is None else value  # csv writes ints as they are


def _boolean(value):
    return "" if value is None else ("true" if value else "false")


def _when(value: datetime | None):
    return "" if value is None else value.isoformat()


WRITERS = {TEXT: _text, INTEGER: _plain, BOOLEAN: _boolean, WHEN: _when}
