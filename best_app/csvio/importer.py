"""Importing a CSV file into a resource: validate every row with the resource's
form, then create and update rows in the caller's transaction, all or nothing.

A row without an id creates a row; a row with an id updates that row, but only
if its `version` cell is the row's current version (the file was exported
from it), unless the import overwrites. Columns the file leaves out keep their
values, as a PATCH does; created_at and updated_at are read-only and ignored.
Rows are read in chunks of CHUNK: the rows they update and the users they
refer to are each read in one query, and a form instance validates each row
(best_app.csvio.validation). Applied rows go through the ORM, or on PostgreSQL
one statement per chunk (best_app.csvio.bulk); either way the change log
(source "import") and cache invalidation follow as for any write.

The importer never commits: the caller commits when `Plan.ok` and not a dry
run, else rolls back. A dry run is the same run without writing.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from best_app.csvio.bulk import insert_rows, update_rows, usable as bulk_usable
from best_app.csvio.reader import CsvFile
from best_app.csvio.validation import RowValidator
from best_app.extensions import db
from best_app.resources import Resource

CHUNK = 1_000
MAX_ERRORS = 100  # errors listed; the total is always counted
MAX_LISTED = 200  # creates and updates listed in a preview; all are counted


@dataclass
class RowError:
    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}{f', {self.field}' if self.field else ''}: {self.message}"


@dataclass
class Plan:
    resource: Resource
    dry_run: bool
    creates: list = field(default_factory=list)  # (line, {field: value}) of the first MAX_LISTED
    updates: list = field(default_factory=list)  # (line, id, [(field, old, new)]) of the first MAX_LISTED
    create_count: int = 0
    update_count: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    pending: list[RowError] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, line: int, field_name: str | None, message: str) -> None:
        self.error_count += 1
        self.pending.append(RowError(line, field_name, message))

    def end_chunk(self) -> None:
        """List the chunk's errors in line order (they are found in several passes), up to MAX_ERRORS."""
        self.pending.sort(key=lambda error: error.line)
        self.errors.extend(self.pending[:MAX_ERRORS - len(self.errors)])
        self.pending.clear()

    def summary(self) -> str:
        verb = "would be" if self.dry_run or not self.ok else "were"
        text = (f"{self.create_count} {self.resource.name} {verb} created, {self.update_count} updated, "
                f"{self.unchanged} unchanged")
        if self.error_count:
            text += f"; {self.error_count} error{'s' if self.error_count != 1 else ''}, nothing was changed"
        return text + "."

    def as_json(self) -> dict:
        return {"dry_run": self.dry_run, "applied": self.ok and not self.dry_run, "created": self.create_count,
                "updated": self.update_count, "unchanged": self.unchanged, "error_count": self.error_count,
                "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in self.errors]}


def import_rows(resource: Resource, data: CsvFile, *, dry_run: bool, overwrite: bool = False, actor=None,
                progress=None) -> Plan:
    """Validate (and unless `dry_run`, apply) every row of `data`; `progress(n)` is told of each chunk."""
    # The rows of a chunk and their ORM objects live long enough to reach the
    # collector's oldest generation, so full collections come every few chunks,
    # each walking every object of the process: a third to half of an update's
    # time. Frozen, what existed before the import is not walked again; it is
    # handed back after (or when a concurrent import ends: it only walks more).
    gc.freeze()
    try:
        return _import_rows(resource, data, dry_run=dry_run, overwrite=overwrite, actor=actor, progress=progress)
    finally:
        gc.unfreeze()


def _import_rows(resource: Resource, data: CsvFile, *, dry_run: bool, overwrite: bool, actor, progress) -> Plan:
    plan = Plan(resource, dry_run)
    validator = RowValidator(resource, data.columns, overwrite=overwrite, actor=actor)
    seen_unique: dict[str, dict[str, int]] = {name: {} for name in resource.unique}
    applied = True
    for start in range(0, len(data.rows), CHUNK):
        chunk = data.rows[start:start + CHUNK]
        checked = validator.check_chunk(chunk, plan)
        _check_unique(resource, checked, seen_unique, plan)
        if plan.ok and not dry_run:
            applied = _apply(resource, checked, plan)
        else:
            for item in checked:
                _count(plan, item)
        plan.end_chunk()
        if not plan.ok and not dry_run and not applied:
            break  # the transaction is gone: nothing was written
        if progress is not None:
            progress(len(chunk))
    return plan


def _count(plan: Plan, item) -> None:
    if item.row is None:
        plan.create_count += 1
        if len(plan.creates) < MAX_LISTED:
            plan.creates.append((item.line, item.values))
    elif item.changes:
        plan.update_count += 1
        if len(plan.updates) < MAX_LISTED:
            plan.updates.append((item.line, item.row_id, item.changes))
    else:
        plan.unchanged += 1


def _check_unique(resource: Resource, checked: list, seen: dict, plan: Plan) -> None:
    """Unique fields (any case) taken by another row, in the database or earlier in the file: one query a field."""
    for name, message in resource.unique.items():
        wanted = {}
        for item in list(checked):
            value = item.values.get(name)
            if not value or (item.row is not None and name not in item.changed_fields):
                continue
            key = value.lower()
            if key in seen[name]:
                plan.error(item.line, name, f"{message} (also on line {seen[name][key]} of the file)")
                checked.remove(item)
                continue
            seen[name][key] = item.line
            wanted[key] = item
        if not wanted:
            continue
        column = resource.column(name)
        for row_id, key in db.session.execute(select(resource.column("id"), func.lower(column))
                                              .where(func.lower(column).in_(list(wanted)))):
            item = wanted[key]
            if item.row is None or item.row_id != row_id:
                plan.error(item.line, name, message)
                if item in checked:
                    checked.remove(item)


def _apply(resource: Resource, checked: list, plan: Plan) -> bool:
    """Write a chunk's rows (flushed, not committed); False when the database refused
    one, after rolling the whole import back."""
    new_rows, new_items, bulk = [], [], []
    in_bulk = bulk_usable(resource)
    for item in checked:
        _count(plan, item)
        if item.row is None and in_bulk:
            new_items.append(item)
            continue
        if item.row is None:
            row = resource.model()
            new_rows.append(row)
        elif not item.changes:
            continue
        elif in_bulk:
            bulk.append(item)
            continue
        else:
            row = item.row
        item.validator.apply(row, item)
    db.session.add_all(new_rows)
    try:
        db.session.flush()
        insert_rows(resource, new_items)
        if not update_rows(resource, bulk):
            raise StaleDataError("an imported row changed since it was validated")
        for item in bulk:
            db.session.expire(item.row)  # the statement changed it behind the session's back
    except (StaleDataError, IntegrityError) as error:
        db.session.rollback()
        lines = f"lines {checked[0].line} to {checked[-1].line}" if checked else "this part of the file"
        why = ("a row changed while the import ran" if isinstance(error, StaleDataError)
               else "a row conflicts with another one (a unique field taken twice?)")
        plan.error(checked[0].line if checked else 0, None,
                   f"The database refused {lines}: {why}. Nothing was changed; check the file and try again.")
        return False
    return True
