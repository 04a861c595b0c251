"""List pages: search, allow-listed sorting and keyset pagination.

Pages are cut with a keyset (WHERE (sort, id) > (last value, last id)), so a
page deep in 100,000 users costs what the first one does, and no COUNT(*)
runs per page view. Cursors are signed, so the values in them are ours.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Integer, false, literal, or_, tuple_

from best_app.extensions import db
from best_app.forms import MAX_ID  # the largest id a column can hold

PER_PAGE = 25
MAX_SEARCH = 254  # no searchable column is longer, so a longer q cannot match anything


@dataclass
class Sort:
    label: str
    column: object  # a column or SQL expression with an index behind it (with id)
    value: Callable | None = None  # reads the sort value off a row; default: the attribute of that name


@dataclass
class Page:
    rows: list
    sort: str
    descending: bool
    args: dict  # the query arguments that define this list (q, filters, sort)
    next_cursor: str | None
    prev_cursor: str | None

    def url(self, **changes) -> str:
        args = {**self.args, **changes}
        return url_for(request.endpoint, **{k: v for k, v in args.items() if v not in (None, "")})

    def sort_url(self, key: str) -> str:
        descending = not self.descending if key == self.sort else False
        return self.url(sort=key, dir="desc" if descending else None)


def _serializer(name: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"] or "", salt=f"admin-cursor:{name}")


def _encode(name: str, sort: str, row_value, row_id: int) -> str:
    if isinstance(row_value, datetime):
        row_value = row_value.isoformat()
    return _serializer(name).dumps([sort, row_value, row_id])


def _decode(name: str, sort: str, raw: str | None):
    """(value, id) from a cursor of this list and sort, or None if absent or not ours."""
    if not raw or len(raw) > 1000:
        return None
    try:
        cursor_sort, value, row_id = _serializer(name).loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    if cursor_sort != sort:
        return None
    if isinstance(value, str) and sort in ("created_at", "updated_at"):
        value = datetime.fromisoformat(value)
    return value, row_id


def search_text(args) -> str:
    return args.get("q", "").strip()


def search_clause(columns, q: str):
    """Case-insensitive substring match over `columns`, as the JSON API does.

    ILIKE rather than lower() LIKE: PostgreSQL's trigram indexes serve ILIKE.
    """
    if len(q) > MAX_SEARCH or "\x00" in q:
        return false()  # nothing stored can contain it; PostgreSQL rejects NUL outright
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def int_arg(args, name: str) -> int | None:
    raw = args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID else None


def paginate(name: str, statement, model, sorts: dict[str, Sort], args, base_args: dict,
             default_sort: str = "id") -> Page:
    """One page of `statement` (a select of `model`) in the order the request asks for."""
    sort = args.get("sort", default_sort)
    if sort not in sorts:
        sort = default_sort
    descending = args.get("dir") == "desc"
    column, id_column = sorts[sort].column, model.id
    after, before = _decode(name, sort, args.get("after")), _decode(name, sort, args.get("before"))
    key = tuple_(column, id_column)

    def bound(cursor_value):
        # Typed, so that the column's own conversion applies (UTC timestamps on SQLite).
        value, row_id = cursor_value
        return tuple_(literal(value, column.type), literal(row_id, Integer()))

    backwards = before is not None and after is None
    if after is not None:
        statement = statement.where(key < bound(after) if descending else key > bound(after))
    elif before is not None:
        statement = statement.where(key > bound(before) if descending else key < bound(before))
    # Walking backwards means reading in the opposite order, then flipping the page.
    reverse = descending != backwards
    order = (column.desc(), id_column.desc()) if reverse else (column.asc(), id_column.asc())
    rows = list(db.session.scalars(statement.order_by(*order).limit(PER_PAGE + 1)))
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    if backwards:
        rows.reverse()
    read = sorts[sort].value or (lambda row: getattr(row, sort))

    def cursor(row):
        return _encode(name, sort, read(row), row.id)

    has_next = more if not backwards else True
    has_prev = (after is not None) if not backwards else more
    page_args = {**base_args, "sort": sort if sort != default_sort else None,
                 "dir": "desc" if descending else None}
    return Page(
        rows=rows, sort=sort, descending=descending, args=page_args,
        next_cursor=cursor(rows[-1]) if rows and has_next else None,
        prev_cursor=cursor(rows[0]) if rows and has_prev else None,
    )
