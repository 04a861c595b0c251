"""How many rows a list holds, without an unbounded COUNT(*) on a hot path.

- Matching rows (a search or filters): counted up to BOUND; past it, "more
  than 10,000". Counting stops at the bound, so a common term costs what
  reading BOUND index entries costs.
- Except a search shorter than a trigram in a table estimated to be large:
  no index narrows it, so a bounded count reads rows until BOUND of them
  match, all of them when few do (tens of ms at a million rows). Its count is
  the planner's estimate, from the columns' statistics, marked as such.
- A search matching only through a common reference whose rows keep a
  counter of this resource's (users.car_count of cars): the counters of up to
  BOUND + 1 matching referenced rows are summed (count_through_counter).
- All rows: exact while the table is small; on PostgreSQL, once the
  planner's statistics say it holds more than ESTIMATE_ABOVE rows, its
  estimate (pg_class.reltuples, kept by ANALYZE and autovacuum), marked as
  such. SQLite has no statistics and is always counted.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text

from best_app.extensions import db
from best_app.resources.declaration import Resource
from best_app.resources import REGISTRY
from best_app.resources.query import TRIGRAM, ListQuery, matching_ids, narrow, own_search_clause, related_ids

BOUND = 10_000
ESTIMATE_ABOVE = 100_000


@dataclass(frozen=True)
class Count:
    value: int
    exact: bool = True
    estimated: bool = False  # the planner's estimate rather than a count

    def as_json(self) -> dict:
        return {"value": self.value, "exact": self.exact, "estimated": self.estimated}

    def words(self) -> str:
        if self.estimated:
            return f"about {self.value:,}"
        return f"{self.value:,}" if self.exact else f"more than {self.value:,}"


def count_all(resource: Resource) -> Count:
    if db.engine.dialect.name == "postgresql":
        estimate = db.session.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                                     {"t": resource.table})
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            return Count(int(estimate), exact=False, estimated=True)
    return Count(db.session.scalar(select(func.count()).select_from(resource.model)) or 0)


def estimate_matching(resource: Resource, query: ListQuery) -> Count:
    """The planner's estimate of the rows `query` keeps (PostgreSQL only)."""
    statement = narrow(resource, select(resource.column("id")), query, plain=True)
    compiled = statement.compile(dialect=db.engine.dialect)
    connection = db.session.connection()
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return Count(int(plan[0]["Plan"]["Plan Rows"]), exact=False, estimated=True)


def count_through_counter(resource: Resource, query: ListQuery) -> Count | None:
    """A search that matches only through a common reference (cars by a first
    name their owners share), counted from the counter the referenced rows keep
    of this resource's rows (users.car_count): reading up to BOUND + 1 matching
    owners instead of as many cars and an index probe for each, a third of the
    time. None where that does not apply or cannot tell; then rows are counted."""
    if query.filters or not query.q or len(resource.search_relations) != 1:
        return None
    reference = resource.search_relations[0]
    target = REGISTRY[resource.relations[reference]]
    counter = target.counters.get(resource.name)
    if counter is None or related_ids(resource, reference, query.q, query.related) is not None:
        return None
    own = select(resource.column("id")).where(own_search_clause(resource, query.q)).limit(1)
    if db.session.scalar(own) is not None:
        return None  # a row matching both ways would be counted twice
    owners = (select(target.column(counter).label("rows")).where(own_search_clause(target, query.q))
              .limit(BOUND + 1).subquery())
    read, rows = db.session.execute(select(func.count(), func.coalesce(func.sum(owners.c.rows), 0))).one()
    if rows > BOUND:
        return Count(BOUND, exact=False)
    return Count(int(rows)) if read <= BOUND else None  # past BOUND owners with fewer rows: count them


def count_matching(resource: Resource, query: ListQuery, total: Count | None = None) -> Count:
    if not query.narrowed:
        return total or count_all(resource)
    if query.q and len(query.q) < TRIGRAM and (total or count_all(resource)).estimated:
        return estimate_matching(resource, query)
    counted = count_through_counter(resource, query)
    if counted is not None:
        return counted
    capped = matching_ids(resource, query).limit(BOUND + 1).subquery()
    found = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return Count(BOUND, exact=False) if found > BOUND else Count(found)


def counts(resource: Resource, query: ListQuery) -> dict:
    """{"matching": ..., "total": ...} as plain data, for the API and the admin pages."""
    total = count_all(resource)
    matching = count_matching(resource, query, total)
    return {"matching": matching.as_json(), "total": total.as_json()}
