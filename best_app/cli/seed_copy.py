"""`flask seed` on PostgreSQL: rows streamed through COPY, in the command's one transaction.

Multi-row INSERTs of a million users, a million cars and a million tasks
took almost four minutes; most of it went on keeping two dozen indexes
(four of them trigram GIN indexes) up to date row by row, firing the
car_count trigger once per car, and building statements. Here:
- the tables being written are locked against other writers (SHARE ROW
  EXCLUSIVE: reads go on), so ids can be reserved up front: each sequence
  is moved past the rows to come before they are copied, and the cars and
  tasks refer to the new users by id;
- rows are generated a batch at a time and read by COPY from a file-like
  object, so memory stays flat whatever the count;
- the car_count trigger is disabled for the load (ALTER TABLE is
  transactional: an error re-enables it) and each new user is copied with
  its car count, since the new cars are all theirs;
- into an empty table, the secondary indexes are dropped first and built
  again from their own definitions once the rows are in: building an index
  once is several times faster than growing it a row at a time. DROP INDEX
  locks the table against readers until the commit, which an empty table can
  afford; a table with rows keeps its indexes and its readers;
- ANALYZE at the end, in the same transaction, so the first queries after
  the seed are planned with the real row counts.
Nothing is committed here: the command commits once, or rolls it all back.
"""
from __future__ import annotations

import io

from sqlalchemy import text

from best_app import caching
from best_app.cli.demo_rows import existing_assignees
from best_app.extensions import db
from best_app.models import counters

COPY_READ_SIZE = 1 << 20


class RowStream(io.RawIOBase):
    """A read-only file over an iterator of (text, row count) chunks, for COPY ... FROM STDIN:
    one chunk in memory at a time. `on_chunk(row_count)` runs as each is read (the progress bar)."""

    def __init__(self, chunks, on_chunk=None):
        self._chunks = iter(chunks)
        self._on_chunk = on_chunk
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            lines, rows = chunk
            self._buffer = lines.encode()
            if self._on_chunk is not None:
                self._on_chunk(rows)
        if size is None or size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


# COPY's text format: a backslash starts an escape, a tab ends the column, a line break the row,
# and \N alone is NULL; escaping the backslash keeps a value that reads "\N" a string.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if value is True or value is False:
        return "t" if value else "f"
    return str(value).translate(_COPY_ESCAPES)


def _lines(batches):
    """(text of the rows in COPY format, how many) for each batch of row tuples."""
    for rows in batches:
        yield "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows), len(rows)


class CopyLoader:
    """load() the rows, finish() the indexes and statistics, then, once the command has
    committed, committed() invalidates the cache."""

    def __init__(self, data, user_count: int, cars_per_user: int, task_count: int):
        self.data = data
        self.user_count, self.cars_per_user, self.task_count = user_count, cars_per_user, task_count
        self.car_count = user_count * cars_per_user
        counts = {"users": user_count, "cars": self.car_count, "tasks": task_count}
        self.tables = [table for table, count in counts.items() if count]
        self.rebuilt: list[str] = []  # the indexes and foreign keys to add back after the load

    def _execute(self, sql: str, **params):
        return db.session.execute(text(sql), params)

    def _reserve_ids(self, table: str, count: int) -> int:
        """The first of `count` ids no row has or will be given by the table's sequence."""
        last = self._execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"greatest(nextval(pg_get_serial_sequence('{table}', 'id')), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table})) + :count - 1)", count=count).scalar()
        return last - count + 1

    def _defer_upkeep(self, table: str, empty: set[str]) -> None:
        """Drop the secondary indexes of an empty table, and its foreign keys to empty
        tables, to build them again in finish(): the table is then locked against
        readers too (ACCESS EXCLUSIVE), which only tables with no rows can afford."""
        if table not in empty:
            return
        # Every index but those backing a constraint (the primary key).
        indexes = self._execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:table AS regclass) AND NOT EXISTS "
            "(SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)",
            table=table).all()
        for name, definition in indexes:
            self._execute(f"DROP INDEX {name}")
            self.rebuilt.append(definition)
        # A foreign key checks each copied row on its own; added back, it checks them all in one join.
        keys = self._execute(
            "SELECT conname, confrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:table AS regclass) AND contype = 'f'", table=table).all()
        for name, referenced, definition in keys:
            if referenced in empty:
                self._execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
                self.rebuilt.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")

    def _copy(self, table: str, columns: str, batches, bar) -> None:
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        try:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", RowStream(_lines(batches), bar.update),
                               size=COPY_READ_SIZE)
        finally:
            cursor.close()

    def load(self, bar) -> None:
        if not self.tables:
            return
        self._execute(f"LOCK TABLE {', '.join(self.tables)} IN SHARE ROW EXCLUSIVE MODE")
        empty = {table for table in ("users", "cars", "tasks")
                 if not self._execute(f"SELECT EXISTS (SELECT FROM {table})").scalar()}
        for table in self.tables:
            self._defer_upkeep(table, empty)
        first_user = self._reserve_ids("users", self.user_count) if self.user_count else 0
        per_user = self.cars_per_user
        users = ([(*row, per_user) for row in rows] for rows in self.data.users(first_user, self.user_count))
        self._copy("users", "id, username, email, name, role, car_count", users, bar)
        if self.car_count:
            self._execute(f"ALTER TABLE cars DISABLE TRIGGER {counters.POSTGRESQL_TRIGGER}")
            owners = (first_user + n // per_user for n in range(self.car_count))
            cars = ([(model, owner) for model, owner in zip(models, owners)]
                    for models in self.data.car_models(self.car_count))
            self._copy("cars", "model, owner_id", cars, bar)
            self._execute(f"ALTER TABLE cars ENABLE TRIGGER {counters.POSTGRESQL_TRIGGER}")
        if self.task_count:
            assignees = range(first_user, first_user + self.user_count) if self.user_count else existing_assignees()
            self._copy("tasks", "title, done, assignee_id", self.data.tasks(self.task_count, assignees), bar)

    def finishing_steps(self) -> list[str]:
        """The statements that finish the load, for finish() one at a time (before the commit):
        build the indexes and keys put aside, and refresh the planner's statistics."""
        if not self.tables:
            return []
        return ["SET LOCAL maintenance_work_mem = '256MB'", *self.rebuilt, f"ANALYZE {', '.join(self.tables)}"]

    def finish(self, step: str) -> None:
        self._execute(step)

    def committed(self) -> None:
        # COPY bypasses the session's statement hooks: say which tables changed.
        if self.tables:
            caching.invalidate_tables(*self.tables)

