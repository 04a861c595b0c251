"""Lists: the one place request parameters become a query, and the one paginator.

The API and the admin pages read the same parameters with the same rules:
`q` (a case-insensitive substring search, also across references: a car's
owner, a task's assignee), `sort` (a field, '-' for descending), `limit`,
`cursor` and the resource's filters (declaration.Resource.filters). Anything
unknown or malformed raises BadParameter naming it.

Pages are cut with a keyset (WHERE (sort, id) > (last sort value, last id)
ORDER BY sort, id LIMIT n+1), so a page deep in a large table costs what the
first one does and every row appears exactly once. Cursors go both ways
(next, previous) and to the last page (read backwards from the end), and are
signed, so that a client cannot hand us arbitrary values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Boolean, DateTime, Integer, String, exists, literal, or_, select, tuple_

from best_app.extensions import db
from best_app.resources import REGISTRY
from best_app.resources import params
from best_app.resources.declaration import Resource
from best_app.resources.params import BadParameter

PAGE_PARAMS = ("limit", "cursor", "sort", "q", "count")
DEFAULT_LIMIT, MAX_LIMIT = 50, 500
MAX_SEARCH = 200
# A search across a reference first finds the matching referenced rows; up to
# this many, their ids go into the query (an index finds their rows); past it
# the term is common, and each row's reference is checked as the rows are read.
RELATED_IDS = 1000
NEXT, PREV, LAST = "next", "prev", "last"


@dataclass(frozen=True)
class Cursor:
    direction: str  # NEXT: rows after (value, id); PREV: rows before it; LAST: the last page
    value: object = None
    id: int | None = None


@dataclass
class ListQuery:
    limit: int = DEFAULT_LIMIT
    sort: str = "id"
    descending: bool = False
    q: str | None = None
    filters: dict = field(default_factory=dict)  # parameter -> parsed value, the scope's included
    cursor: Cursor | None = None
    count: bool = False  # whether the caller asked for counts

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort

    @property
    def narrowed(self) -> bool:
        return bool(self.q or self.filters)

    def cache_key(self) -> str:
        return repr([self.limit, self.sort_param, self.q, sorted(self.filters.items()), self.cursor])

    def count_key(self) -> str:
        return repr([self.q, sorted(self.filters.items())])


# -- parameters ----------------------------------------------------------------

def parse_list_args(resource: Resource, args, *, fixed: dict | None = None, default_limit: int = DEFAULT_LIMIT,
                    extra: tuple[str, ...] = ()) -> ListQuery:
    """A ListQuery from query arguments (a MultiDict). `fixed` holds a scope's
    filters (a user's cars), which the arguments may not change; `extra`
    names parameters the caller reads itself."""
    fixed = fixed or {}
    filters = resource.filters
    allowed = set(PAGE_PARAMS) | set(extra) | {name for name in filters if name not in fixed}
    for name in args:
        if name not in allowed:
            raise BadParameter(name, f"unknown parameter; use {', '.join(sorted(allowed))}")
        if len(args.getlist(name)) > 1:
            raise BadParameter(name, "given more than once")
    query = ListQuery(limit=default_limit, filters=dict(fixed))
    if "limit" in args:
        query.limit = params.integer("limit", args["limit"], MAX_LIMIT)
    sort_param = args.get("sort", "id")
    if sort_param.lstrip("-") not in resource.sorts or sort_param.startswith("--"):
        raise BadParameter("sort", f"must be one of {', '.join(resource.sorts)}, with '-' for descending")
    query.sort, query.descending = sort_param.lstrip("-"), sort_param.startswith("-")
    if args.get("q"):
        query.q = params.text("q", args["q"], MAX_SEARCH)
    for name, filter_ in filters.items():
        if name in args and name not in fixed:
            query.filters[name] = filter_.parse(args[name])
    if "count" in args:
        query.count = params.boolean("count", args["count"])
    if "cursor" in args:
        query.cursor = decode_cursor(resource.name, args["cursor"], query,
                                     resource.sort_expression(query.sort).type)
    return query


def _serializer(list_name: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"] or "", salt=f"cursor:{list_name}")


def encode_cursor(list_name: str, query: ListQuery, direction: str, row=None) -> str:
    """A cursor of the list called `list_name`; `row` has the page edge's `id` and `_sort` value."""
    if direction == LAST:
        return _serializer(list_name).dumps([query.sort_param, LAST])
    value = row._sort
    return _serializer(list_name).dumps([query.sort_param, direction,
                                         value.isoformat() if isinstance(value, datetime) else value, row.id])


def decode_cursor(list_name: str, raw: str, query: ListQuery, sort_type) -> Cursor:
    not_ours = BadParameter("cursor", "is not a cursor this list issued")
    if len(raw) > 1000:
        raise not_ours
    try:
        payload = _serializer(list_name).loads(raw)
    except BadSignature:
        raise not_ours from None
    if not isinstance(payload, list) or len(payload) < 2:
        raise not_ours
    if payload[0] != query.sort_param:
        raise BadParameter("cursor", "was issued for another sort order; keep the same sort while paging")
    if payload[1:] == [LAST]:
        return Cursor(LAST)
    if len(payload) != 4 or payload[1] not in (NEXT, PREV):
        raise not_ours
    _sort, direction, value, last_id = payload
    if not isinstance(last_id, int) or isinstance(last_id, bool):
        raise not_ours
    return Cursor(direction, _cursor_value(sort_type, value, not_ours), last_id)


def _cursor_value(column_type, value, not_ours: BadParameter):
    """The sort value from a decoded cursor, checked against the sort's type."""
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
        raise not_ours
    return value


# -- the query -----------------------------------------------------------------

def _pattern(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matches(resource: Resource, pattern: str):
    return or_(*(resource.column(name).ilike(pattern, escape="\\") for name in resource.search))


def own_search_clause(resource: Resource, q: str):
    """Rows whose own search columns contain `q`, in any case (no references)."""
    return _matches(resource, _pattern(q))


def search_clause(resource: Resource, q: str):
    """Rows whose own search columns contain `q` (any case), or whose reference
    (search_relations) points at a row whose search columns do."""
    pattern = _pattern(q)
    clauses = [_matches(resource, pattern)]
    for reference in resource.search_relations:
        target = REGISTRY[resource.relations[reference]]
        target_id, column = target.column("id"), resource.column(reference)
        matching = _matches(target, pattern)
        ids = db.session.scalars(select(target_id).where(matching).limit(RELATED_IDS + 1)).all()
        if len(ids) <= RELATED_IDS:
            if ids:
                clauses.append(column.in_(ids))
        else:
            clauses.append(exists(select(1).where(target_id == column, matching)))
    return or_(*clauses)


def narrow(resource: Resource, statement, query: ListQuery):
    """`statement` with the query's filters and search applied."""
    filters = resource.filters
    for name, value in query.filters.items():
        statement = statement.where(filters[name].clause(value))
    if query.q:
        statement = statement.where(search_clause(resource, query.q))
    return statement


@dataclass
class Page:
    items: list[dict]
    next_cursor: str | None
    prev_cursor: str | None
    last_cursor: str | None

    def as_json(self) -> dict:
        return {"items": self.items, "next_cursor": self.next_cursor, "prev_cursor": self.prev_cursor}


def keyset_page(list_name: str, statement, sort_column, id_column, query: ListQuery):
    """The rows of one page of `statement` (which selects `sort_column` as `_sort`),
    and the Page's cursors, for the list called `list_name`."""
    cursor = query.cursor
    backwards = cursor is not None and cursor.direction in (PREV, LAST)
    if cursor is not None and cursor.direction != LAST:
        key = tuple_(sort_column, id_column)
        # Typed, so that the column's own conversion applies (UTC timestamps on SQLite).
        bound = tuple_(literal(cursor.value, sort_column.type), literal(cursor.id, Integer()))
        after = (cursor.direction == NEXT) != query.descending
        statement = statement.where(key > bound if after else key < bound)
    # Walking backwards means reading in the opposite order, then flipping the page.
    reverse = query.descending != backwards
    order = (sort_column.desc(), id_column.desc()) if reverse else (sort_column.asc(), id_column.asc())
    rows = db.session.execute(statement.order_by(*order).limit(query.limit + 1)).all()
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    if backwards:
        rows.reverse()
        has_next, has_prev = cursor.direction == PREV, more
    else:
        has_next, has_prev = more, cursor is not None
    cursors = {
        "next_cursor": encode_cursor(list_name, query, NEXT, rows[-1]) if rows and has_next else None,
        "prev_cursor": encode_cursor(list_name, query, PREV, rows[0]) if rows and has_prev else None,
        "last_cursor": encode_cursor(list_name, query, LAST) if has_next else None,
    }
    return rows, cursors


def fetch_page(resource: Resource, query: ListQuery) -> Page:
    """One page of serialised items, with the cursors around it."""
    sort_column = resource.sort_expression(query.sort)
    # Plain rows of the returned columns, not ORM objects: the page is only
    # serialised, and skipping the identity map halves the cost of a miss.
    statement = narrow(resource, select(*(resource.column(name) for name in resource.fields),
                                        sort_column.label("_sort")), query)
    rows, cursors = keyset_page(resource.name, statement, sort_column, resource.column("id"), query)
    return Page(items=[resource.serialize(row) for row in rows], **cursors)
