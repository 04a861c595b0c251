"""List queries: strict query parameters, filters, search and keyset pagination.

Pages are cut with a keyset (WHERE (sort, id) > (last sort value, last id)
ORDER BY sort, id LIMIT n+1), so a page deep in a large table costs what the
first one does, every row appears exactly once even when the sort column has
duplicates, and no COUNT(*) is ever run. The cursor carries the last row's
sort value and id, signed so that a client cannot hand us arbitrary values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Boolean, DateTime, Integer, String, literal, or_, select, tuple_

from best_app.api.problems import bad_parameter
from best_app.api.resource import MAX_ID, Resource
from best_app.extensions import db
from best_app.forms import SINGLE_LINE

PAGE_PARAMS = ("limit", "cursor", "sort", "q")
DEFAULT_LIMIT, MAX_LIMIT = 50, 500
MAX_SEARCH = 200
TRUE, FALSE = ("true", "1"), ("false", "0")
TEXT_PATTERN = SINGLE_LINE.pattern(trimmed=False)  # what `q` and text filters accept


@dataclass
class ListQuery:
    limit: int = DEFAULT_LIMIT
    sort: str = "id"
    descending: bool = False
    q: str | None = None
    filters: dict = field(default_factory=dict)
    after: tuple | None = None  # (sort value, id) of the previous page's last row

    def cache_key(self) -> str:
        parts = [self.limit, self.sort, self.descending, self.q, sorted(self.filters.items()), self.after]
        return repr(parts)


def _serializer(resource: Resource) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"] or "", salt=f"cursor:{resource.name}")


def _text(name: str, raw: str, max_length: int | None = None) -> str:
    # Nothing stored holds a control character (the forms refuse them), so a
    # search or filter with one could only match nothing: refuse it, as the
    # OpenAPI document says (TEXT_PATTERN).
    problem = SINGLE_LINE.find(raw)
    if problem is not None:
        raise bad_parameter(name, problem)
    if max_length is not None and len(raw) > max_length:
        raise bad_parameter(name, f"must be at most {max_length} characters")
    return raw


def _integer(name: str, raw: str, maximum: int) -> int:
    # isascii: str.isdigit() also accepts digits such as "²" that int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise bad_parameter(name, f"must be an integer from 1 to {maximum}")
    return int(raw)


def parse_filter(resource: Resource, name: str, raw: str):
    spec = resource.specs[name]
    if spec.type == "boolean":
        if raw.lower() not in TRUE + FALSE:
            raise bad_parameter(name, "must be true or false")
        return raw.lower() in TRUE
    if spec.type == "integer":
        return _integer(name, raw, MAX_ID)
    if spec.enum is not None and raw not in spec.enum:
        raise bad_parameter(name, f"must be one of {', '.join(spec.enum)}")
    return _text(name, raw, spec.max_length)


def _cursor_value(resource: Resource, sort: str, value):
    """The sort value from a decoded cursor, checked against the column's type."""
    column_type = resource.column(sort).type
    if isinstance(column_type, Boolean):
        ok = isinstance(value, bool)
    elif isinstance(column_type, Integer):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(column_type, String):
        ok = isinstance(value, str)
    elif isinstance(getattr(column_type, "impl", column_type), DateTime):
        try:
            return datetime.fromisoformat(value)
        except (TypeError, ValueError):
            ok = False
    else:
        ok = False
    if not ok:
        raise bad_parameter("cursor", "is not a cursor this list issued")
    return value


def decode_cursor(resource: Resource, raw: str, sort: str) -> tuple:
    try:
        payload = _serializer(resource).loads(raw)
        cursor_sort, value, last_id = payload
    except (BadSignature, TypeError, ValueError):
        raise bad_parameter("cursor", "is not a cursor this list issued") from None
    if cursor_sort != sort:
        raise bad_parameter("cursor", "was issued for another sort order; keep the same sort while paging")
    if not isinstance(last_id, int) or isinstance(last_id, bool):
        raise bad_parameter("cursor", "is not a cursor this list issued")
    return _cursor_value(resource, sort.lstrip("-"), value), last_id


def encode_cursor(resource: Resource, sort_param: str, item: dict) -> str:
    sort = sort_param.lstrip("-")
    return _serializer(resource).dumps([sort_param, item[sort], item["id"]])


def parse_list_args(resource: Resource, fixed: dict | None = None) -> ListQuery:
    """A ListQuery from request.args; any unknown or bad parameter is a 400."""
    fixed = fixed or {}
    allowed = set(PAGE_PARAMS) | {name for name in resource.filters if name not in fixed}
    query = ListQuery(filters=dict(fixed))
    for name in request.args:
        if name not in allowed:
            raise bad_parameter(name, f"unknown parameter; use {', '.join(sorted(allowed))}")
        if len(request.args.getlist(name)) > 1:
            raise bad_parameter(name, "given more than once")
    args = request.args
    if "limit" in args:
        query.limit = _integer("limit", args["limit"], MAX_LIMIT)
    sort_param = args.get("sort", "id")
    if sort_param.lstrip("-") not in resource.sorts or sort_param.startswith("--"):
        raise bad_parameter("sort", f"must be one of {', '.join(resource.sorts)}, with '-' for descending")
    query.sort, query.descending = sort_param.lstrip("-"), sort_param.startswith("-")
    if "q" in args:
        query.q = _text("q", args["q"], MAX_SEARCH)
    for name in resource.filters:
        if name in args and name not in fixed:
            query.filters[name] = parse_filter(resource, name, args[name])
    if "cursor" in args:
        query.after = decode_cursor(resource, args["cursor"], sort_param)
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fetch_page(resource: Resource, query: ListQuery) -> dict:
    """One page as plain data: {"items": [...], "next_cursor": str | None}."""
    sort_column, id_column = resource.column(query.sort), resource.column("id")
    # Plain rows of the returned columns, not ORM objects: the page is only
    # serialised, and skipping the identity map halves the cost of a miss.
    statement = select(*(resource.column(name) for name in resource.fields))
    for name, value in query.filters.items():
        statement = statement.where(resource.column(name) == value)
    if query.q:
        pattern = f"%{_escape_like(query.q)}%"
        statement = statement.where(or_(*(resource.column(c).ilike(pattern, escape="\\")
                                          for c in resource.search)))
    if query.after is not None:
        value, last_id = query.after
        key = tuple_(sort_column, id_column)
        bound = tuple_(literal(value, sort_column.type), literal(last_id, Integer()))
        statement = statement.where(key < bound if query.descending else key > bound)
    if query.descending:
        statement = statement.order_by(sort_column.desc(), id_column.desc())
    else:
        statement = statement.order_by(sort_column, id_column)
    rows = db.session.execute(statement.limit(query.limit + 1)).all()
    items = [resource.serialize(row) for row in rows[:query.limit]]
    sort_param = f"-{query.sort}" if query.descending else query.sort
    next_cursor = encode_cursor(resource, sort_param, items[-1]) if len(rows) > query.limit else None
    return {"items": items, "next_cursor": next_cursor}


def next_link(next_cursor: str) -> str:
    """The Link header to the next page, as a reference relative to this host.

    Never absolute: the host would come from the request's Host header, which
    the client (or anyone in front of a cache) chooses.
    """
    params = {name: value for name, value in request.args.items() if name != "cursor"}
    params["cursor"] = next_cursor
    return f'<{url_for(request.endpoint, **request.view_args, **params)}>; rel="next"'
