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
from datetime import datetime, timezone

from sqlalchemy import Boolean, DateTime, Integer, String, Text, case, func, literal, type_coerce

TEXT, INTEGER, BOOLEAN, WHEN = "text", "integer", "boolean", "when"
# One rule, read by Python's re and PostgreSQL's regular expressions alike.
FORMULA_START = "^'*[-=+@\t\r]"
_NEEDS_QUOTE = re.compile(FORMULA_START)
_QUOTED = re.compile("^'+[-=+@\t\r]")
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


def _when(value: datetime | None):
    """A timestamp as the API writes it (UTC, ISO 8601). Read without the column's
    UTCDateTime processor (export.py): naive from SQLite, which stores UTC."""
    if value is None:
        return ""
    return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)).isoformat()


# PostgreSQL writes a timestamp as datetime.isoformat() does for UTC (microseconds only when not 0).
_PG_SECONDS, _PG_MICROSECONDS = 'YYYY-MM-DD"T"HH24:MI:SS', ".US"


def selected(column, dialect: str):
    """(what to select for `column`, the Python function that turns it into a cell, or None).

    On PostgreSQL every cell is made by the database, in its own process, so
    the export's Python only moves rows (the speed of bench.export). Elsewhere
    booleans are, and texts and timestamps are converted here (the same rules).
    """
    kind = kind_of(column)
    if kind == BOOLEAN:
        return case((column.is_(None), ""), (column, "true"), else_="false").label(column.name), None
    if kind == INTEGER:
        return column, None  # csv writes None as an empty cell
    if dialect == "postgresql":
        if kind == TEXT:
            return case((column.regexp_match(FORMULA_START), literal("'") + column), else_=column).label(column.name), None
        utc = func.timezone("UTC", column)
        micro = func.date_part("microseconds", column).cast(Integer) % 1_000_000
        text = (func.to_char(utc, _PG_SECONDS) + case((micro != 0, func.to_char(utc, _PG_MICROSECONDS)), else_="")
                + "+00:00")
        return case((column.is_(None), None), else_=text).label(column.name), None
    if kind == WHEN:
        # Without the column's UTCDateTime processor (a Python call per value); _when does its work.
        return type_coerce(column, DateTime(timezone=True)).label(column.name), _when
    return column, _text
