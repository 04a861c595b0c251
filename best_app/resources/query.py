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
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import (Boolean, DateTime, Integer, String, bindparam, false, func, or_, select, true, tuple_,
                        union_all)

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
# A search matching at most this many rows has its page sorted from all of them (_few_matches).
FEW = 2000
# A trigram index narrows nothing for a term shorter than this: PostgreSQL
# would read all of it and then recheck every row, slower than reading the
# rows in the list's order, which it does when no index applies (own_search_clause).
TRIGRAM = 3
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
    # What the search found among referenced rows, per reference: looked up
    # once for the page and the count alike. Not part of what the query means.
    related: dict = field(default_factory=dict, repr=False, compare=False)

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


_SERIALIZERS: dict[tuple[str, str], URLSafeSerializer] = {}


def _serializer(list_name: str) -> URLSafeSerializer:
    # Made once per key and list: a page signs up to three cursors and checks one.
    secret = current_app.config["SECRET_KEY"] or ""
    serializer = _SERIALIZERS.get((secret, list_name))
    if serializer is None:
        serializer = _SERIALIZERS[secret, list_name] = URLSafeSerializer(secret, salt=f"cursor:{list_name}")
    return serializer


def encode_cursor(list_name: str, query: ListQuery, direction: str, row=None) -> str:
    """A cursor of the list called `list_name`; `row` has the page edge's `id` and `_sort` value."""
    if direction == LAST:
        return _last_cursor(list_name, query.sort_param)
    value = row._sort
    return _serializer(list_name).dumps([query.sort_param, direction,
                                         value.isoformat() if isinstance(value, datetime) else value, row.id])


def _last_cursor(list_name: str, sort_param: str) -> str:
    # The same for every page of a list and sort: signed once per key.
    key = (current_app.config["SECRET_KEY"] or "", list_name, sort_param)
    cursor = _LAST_CURSORS.get(key)
    if cursor is None:
        cursor = _LAST_CURSORS[key] = _serializer(list_name).dumps([sort_param, LAST])
    return cursor


_LAST_CURSORS: dict[tuple[str, str, str], str] = {}


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


def own_search_clause(resource: Resource, q: str, *, plain: bool = False):
    """Rows whose own search columns contain `q`, in any case (no references).

    `plain` keeps the bare columns whatever the term's length, so that the
    planner's statistics of the columns apply (counting.estimate_matching)."""
    pattern = _pattern(q)
    # Shorter than TRIGRAM: the columns as an expression no index serves.
    indexed = plain or len(q) >= TRIGRAM
    # Columns whose rules never accept the term's characters are not asked.
    columns = [resource.column(name) for name in resource.search
               if name not in resource.specs or resource.specs[name].may_contain(q)]
    return or_(false(), *((column if indexed else column + "").ilike(pattern, escape="\\") for column in columns))


def related_ids(resource: Resource, reference: str, q: str, found: dict) -> list[int] | None:
    """Ids of the rows `reference` points at whose search columns contain `q`, or
    None past RELATED_IDS of them; kept in `found` (a ListQuery's `related`)."""
    if reference not in found:
        target = REGISTRY[resource.relations[reference]]
        # Planned for every matching row, so a term the trigram indexes can
        # narrow is looked up in them; read only as far as the LIMIT. With the
        # LIMIT in view, PostgreSQL reads the table in order instead, betting
        # on many matches: a first name found among a million users then cost
        # a third of a table scan, and a term just past RELATED_IDS all of it.
        matching = (select(target.column("id").label("id")).where(own_search_clause(target, q))
                    .cte().prefix_with("MATERIALIZED", dialect="postgresql"))
        ids = db.session.scalars(select(matching.c.id).limit(RELATED_IDS + 1)).all()
        found[reference] = ids if len(ids) <= RELATED_IDS else None
    return found[reference]


def _reference_matches(resource: Resource, reference: str, q: str, found: dict):
    """Rows whose `reference` points at a row whose search columns contain `q`."""
    column = resource.column(reference)
    ids = related_ids(resource, reference, q, found)
    if ids is not None:
        return column.in_(ids) if ids else false()
    # A common term: each row's reference is checked as the row is read (one
    # index probe), so a page stops after its rows. A scalar subquery rather
    # than EXISTS, which PostgreSQL turns into a hash of every matching
    # referenced row, built before the page's first row: 20,000 rows for a
    # first name among a million users.
    target = REGISTRY[resource.relations[reference]]
    return select(own_search_clause(target, q)).where(target.column("id") == column).scalar_subquery()


def search_clause(resource: Resource, q: str, found: dict | None = None, *, plain: bool = False):
    """Rows whose own search columns contain `q` (any case), or whose reference
    (search_relations) points at a row whose search columns do."""
    found = {} if found is None else found
    return or_(own_search_clause(resource, q, plain=plain),
               *(_reference_matches(resource, reference, q, found) for reference in resource.search_relations))


def _filtered(resource: Resource, statement, query: ListQuery):
    filters = resource.filters
    for name, value in query.filters.items():
        statement = statement.where(filters[name].clause(value))
    return statement


def narrow(resource: Resource, statement, query: ListQuery, *, plain: bool = False):
    """`statement` with the query's filters and search applied (`plain`: see own_search_clause)."""
    statement = _filtered(resource, statement, query)
    if query.q:
        statement = statement.where(search_clause(resource, query.q, query.related, plain=plain))
    return statement


def matching_ids(resource: Resource, query: ListQuery):
    """The ids of the rows `narrow` keeps, in no particular order, shaped for
    reading only the first few thousand (a bounded count).

    A search whose term is common among referenced rows (a first name among a
    million users) is split into disjoint parts, one per way of matching: the
    row's own columns, then each reference, driven from the matching
    referenced rows through the reference's index. As one statement, the
    database reads the rows in table order, checking each one's reference,
    and most do not match.
    """
    base = select(resource.column("id"))
    if not query.q:
        return narrow(resource, base, query)
    q, found = query.q, query.related
    many = [reference for reference in resource.search_relations
            if related_ids(resource, reference, q, found) is None]
    if not many:
        return narrow(resource, base, query)
    own = _filtered(resource, base, query).where(own_search_clause(resource, q))
    # What the parts before matched is excluded from the later ones, which
    # costs each of their rows a read of its own columns. A name rarely
    # matches any car's model or task's title; then there is none to exclude,
    # and an index alone answers the rest.
    if db.session.scalar(own.limit(1)) is None:
        earlier, parts = [], []
    else:
        earlier, parts = [own_search_clause(resource, q)], [own]
    for reference in resource.search_relations:
        if reference in many:
            target = REGISTRY[resource.relations[reference]]
            referenced = select(target.column("id").label("id")).where(own_search_clause(target, q)).subquery()
            rows = _filtered(resource, base, query).where(*(clause.is_not(true()) for clause in earlier))
            joined = resource.column(reference) == referenced.c.id
            if db.engine.dialect.name == "postgresql":
                # LATERAL, kept apart by OFFSET 0: a nested loop from the
                # matching referenced rows that stops at the count's LIMIT. As
                # a plain join the planner hashes them all and reads the table.
                rows = rows.where(joined).offset(0).lateral()
                parts.append(select(rows.c.id).select_from(referenced).join(rows, true()))
            else:  # SQLite has no LATERAL, and loops over the rows regardless
                parts.append(rows.join(referenced, joined))
        else:
            clause = _reference_matches(resource, reference, q, found)
            parts.append(_filtered(resource, base, query)
                         .where(clause, *(other.is_not(true()) for other in earlier)))
        earlier.append(_reference_matches(resource, reference, q, found))
    return parts[0] if len(parts) == 1 else union_all(*parts)


@dataclass
class Page:
    items: list[dict]
    next_cursor: str | None
    prev_cursor: str | None
    last_cursor: str | None

    def as_json(self) -> dict:
        return {"items": self.items, "next_cursor": self.next_cursor, "prev_cursor": self.prev_cursor}


def keyset_page(list_name: str, statement, sort_column, id_column, query: ListQuery, *, gather_first: bool = False,
                reuse: tuple | None = None):
    """The rows of one page of `statement` (which selects `sort_column` as `_sort`
    and `id_column` as `id`), and the Page's cursors, for the list called `list_name`.
    `gather_first`: the statement matches few rows; find them all through the
    indexes that narrow them, then sort them, rather than read in order.
    `reuse`: a key that names this statement whatever the query's cursor and limit
    (which are passed as parameters), under which the page's statement is kept."""
    cursor = query.cursor
    backwards = cursor is not None and cursor.direction in (PREV, LAST)
    bounded = cursor is not None and cursor.direction != LAST
    after = bounded and (cursor.direction == NEXT) != query.descending
    # Walking backwards means reading in the opposite order, then flipping the page.
    reverse = query.descending != backwards
    shape = (bounded, after, reverse, gather_first)
    key = None if reuse is None else (reuse, shape)
    page_statement = None if key is None else _PAGE_STATEMENTS.get(key)
    if page_statement is None:
        page_statement = _page_statement(statement, sort_column, id_column, *shape)
        if key is not None:
            _PAGE_STATEMENTS[key] = page_statement
    values = {"page_limit": query.limit + 1}
    if bounded:
        values.update(cursor_sort=cursor.value, cursor_id=cursor.id)
    rows = db.session.execute(page_statement, values).all()
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


# Statements of plain pages (no filter, no search), kept by keyset_page: building one, and
# then SQLAlchemy's walk of it for its cache key, were a tenth of a page's CPU. A kept
# statement's key is worked out once. At most four per resource and sort: the first (or
# last) page in either order, and a page past a cursor, ahead of it or behind it.
_PAGE_STATEMENTS: dict = {}


def _page_statement(statement, sort_column, id_column, bounded: bool, after: bool, reverse: bool,
                    gather_first: bool):
    """`statement` as one page: past the cursor's position (`bounded`; after it or before
    it), in the page's order, with one row more than the limit. The cursor's values and the
    limit are parameters: cursor_sort, cursor_id and page_limit."""
    if bounded:
        key = tuple_(sort_column, id_column)
        # Typed, so that the column's own conversion applies (UTC timestamps on SQLite).
        bound = tuple_(bindparam("cursor_sort", type_=sort_column.type), bindparam("cursor_id", type_=Integer()))
        statement = statement.where(key > bound if after else key < bound)
    if gather_first:
        gathered = statement.cte().prefix_with("MATERIALIZED", dialect="postgresql")
        statement, sort_column, id_column = select(gathered), gathered.c._sort, gathered.c.id
    order = (sort_column.desc(), id_column.desc()) if reverse else (sort_column.asc(), id_column.asc())
    return statement.order_by(*order).limit(bindparam("page_limit", type_=Integer()))


@lru_cache(maxsize=None)
def _page_select(resource: Resource, sort: str):
    """The columns a page of `resource` sorted by `sort` selects: built once (statements are
    immutable; each page adds its own clauses to a copy)."""
    # Plain rows of the returned columns, not ORM objects: the page is only
    # serialised, and skipping the identity map halves the cost of a miss.
    return select(*(resource.column(name) for name in resource.fields),
                  resource.sort_expression(sort).label("_sort"))


def _few_matches(resource: Resource, query: ListQuery) -> bool:
    """Whether a search that found a few referenced rows matches at most FEW rows in all.

    Its page is `own columns match OR reference IN (ids)`. PostgreSQL reads
    such a page in the list's order through the sort's index, betting that
    matches are spread evenly and many; when a full name matches a few hundred
    tasks among a million, that reads a tenth of the table to fill a page
    (30 ms). A bounded count through the indexes says which case this is."""
    if not query.q or db.engine.dialect.name != "postgresql" or not any(query.related.values()):
        return False
    capped = matching_ids(resource, query).limit(FEW + 1).subquery()
    return (db.session.scalar(select(func.count()).select_from(capped)) or 0) <= FEW


def fetch_page(resource: Resource, query: ListQuery) -> Page:
    """One page of serialised items, with the cursors around it."""
    sort_column = resource.sort_expression(query.sort)
    statement = narrow(resource, _page_select(resource, query.sort), query)
    plain = not query.q and not query.filters
    rows, cursors = keyset_page(resource.name, statement, sort_column, resource.column("id"), query,
                                gather_first=_few_matches(resource, query),
                                reuse=(resource.name, query.sort) if plain else None)
    return Page(items=resource.serialize_rows(rows), **cursors)


def newest_first(list_name: str, statement, model, cursor: str | None, limit: int, sort_column=None):
    """A page of `statement` (a select of `model`) newest first by `sort_column` (default:
    the id), from `cursor` (None: the first page): the rows of `model` and the cursors.
    For the logs and lists that are not resources (tokens, changes, login events);
    raises BadParameter for a cursor the list did not issue."""
    sort_column = model.id if sort_column is None else sort_column
    query = ListQuery(limit=limit, sort=sort_column.key, descending=True)
    if cursor is not None:
        query.cursor = decode_cursor(list_name, cursor, query, sort_column.type)
    statement = statement.add_columns(sort_column.label("_sort"), model.id.label("id"))
    rows, cursors = keyset_page(list_name, statement, sort_column, model.id, query)
    return [row[0] for row in rows], cursors
