"""Writing a chunk of imported rows with one statement each on PostgreSQL.

Through the ORM each updated row is its own UPDATE (the version check needs
each row's count), a round trip each: 100,000 rows took minutes; and the
unit of work costs new rows more than their INSERT. Here a chunk's new rows
are one multi-row INSERT ... RETURNING id, and its updates one
UPDATE ... FROM (VALUES ...) that sets every imported field,
bumps the version and checks it in its WHERE; if fewer rows match than were
sent, a row changed since it was validated and the import is refused. The
change log gets the entries the hooks would have written (the old and new
values are known: history.record_updates); the cache is invalidated on
commit as for any bulk statement (caching.py sees the UPDATE).

Used only where it says the same as the ORM would: on PostgreSQL, for a
resource whose `apply` is the plain copy of form values (a resource that does
more, such as hashing a user's password, goes through the ORM).
"""
from __future__ import annotations

from sqlalchemy import Integer, cast, column, insert, update, values

from best_app.extensions import db
from best_app.history import SKIP_HISTORY, record_written
from best_app.models.change import CREATE, UPDATE
from best_app.models.base import utcnow
from best_app.resources import Resource
from best_app.resources.declaration import Resource as PlainResource


def usable(resource: Resource) -> bool:
    return db.session.get_bind().dialect.name == "postgresql" and type(resource).apply is PlainResource.apply


def update_rows(resource: Resource, items: list) -> bool:
    """Apply the changes of `items` (validated, each with row_id, version, values and changes);
    False when some row's version no longer matched (nothing of the chunk is kept then)."""
    if not items:
        return True
    names = list(items[0].values)
    table = resource.model.__table__
    data = values(column("row_id", Integer()), column("row_version", Integer()),
                  *(column(name, table.c[name].type) for name in names), name="imported")
    data = data.data([(item.row_id, item.version, *(item.values[name] for name in names)) for item in items])
    statement = (update(table).where(table.c.id == data.c.row_id, table.c.version == data.c.row_version)
                 .values({**{name: cast(data.c[name], table.c[name].type) for name in names},
                          "version": table.c.version + 1, "updated_at": utcnow()}))
    result = db.session.execute(statement, execution_options={SKIP_HISTORY: True, "synchronize_session": False})
    if result.rowcount != len(items):
        return False
    record_written(db.session, resource, UPDATE, [(item.row_id, item.version + 1,
                                                   {name: (old, new) for name, old, new in item.changes})
                                                  for item in items])
    return True


def insert_rows(resource: Resource, items: list) -> None:
    """Create the rows of `items` (validated, each with its values)."""
    if not items:
        return
    table = resource.model.__table__
    ids = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                             [item.values for item in items], execution_options={SKIP_HISTORY: True}).scalars()
    record_written(db.session, resource, CREATE, [(row_id, 1, {name: (None, value) for name, value in
                                                               item.values.items()})
                                                  for row_id, item in zip(ids, items, strict=True)])
