"""Validating the rows of an import with the resource's own form.

One form instance per import is filled again for every row (Form.process),
which validates exactly as a fresh form does at a fraction of the cost of
building one. Before a chunk of rows is validated, the rows it updates and
the rows its references name are read in one query each, so the form's
reference fields find them in the session instead of asking the database
row by row. Cells are read as the export writes them: text unescaped
(best_app.csvio.cells), booleans as true/false (also 1/0, yes/no),
references as ids (a username works too, as in the admin's form).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from best_app.csvio.cells import BOOLEAN, FALSE_WORDS, TEXT, TRUE_WORDS, kind_of, unescape
from best_app.csvio.reader import FileProblem
from best_app.extensions import db
from best_app.forms import MAX_ID
from best_app.resources import REGISTRY, Resource


class FilledForm:
    """What Resource.apply and form_values read of a validated form (each field's
    data), kept after the shared form instance has moved on to the next row."""

    def __init__(self, form, names):
        self.fields = {name: SimpleNamespace(data=form[name].data) for name in names}

    def __getitem__(self, name):
        return self.fields[name]

    def __getattr__(self, name):
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(eq=False)
class Checked:
    """A valid row: what it creates (row None) or changes."""

    line: int
    row: object | None
    values: dict
    filled: FilledForm
    changes: list = field(default_factory=list)  # (field, old, new)
    validator: RowValidator | None = None
    row_id: int | None = None  # the updated row's id and version when validated
    version: int | None = None

    @property
    def changed_fields(self) -> set:
        return {name for name, _old, _new in self.changes}


def _whole_number(cell: str) -> int | None:
    cell = cell.strip()
    return int(cell) if cell.isascii() and cell.isdigit() and 0 < int(cell) <= MAX_ID else None


class RowValidator:
    def __init__(self, resource: Resource, columns: list[str], *, overwrite: bool, actor=None):
        if "id" in columns and "version" not in columns and not overwrite:
            raise FileProblem("The file has an id column but no version column: keep the version column of "
                              "the export (so rows changed since are not overwritten), or import with overwrite.")
        self.resource, self.columns, self.overwrite, self.actor = resource, columns, overwrite, actor
        self.position = {name: i for i, name in enumerate(columns)}
        self.writable = [name for name in columns if name in resource.writable]
        self.kinds = {name: kind_of(resource.column(name)) for name in self.writable
                      if name not in resource.write_only}
        self.form = resource.form(formdata=None, meta={"csrf": False})
        self.blank = resource.model()  # what a new row is to edit_problems (never added to the session)
        self.seen_ids: dict[int, int] = {}
        self._kept: list = []  # the rows read ahead for this chunk, held so the session keeps them

    def check_chunk(self, chunk: list, plan) -> list[Checked]:
        resource, parsed = self.resource, []
        for line, cells in chunk:
            if len(cells) != len(self.columns):
                plan.error(line, None, f"The row has {len(cells)} cells; the header names {len(self.columns)} "
                                       "columns.")
                continue
            row_id = self._row_id(line, cells, plan)
            if row_id is not False:
                parsed.append((line, row_id, cells))
        ids = [row_id for _line, row_id, _cells in parsed if row_id is not None]
        existing = {row.id: row for row in db.session.scalars(
            select(resource.model).where(resource.column("id").in_(ids)))} if ids else {}
        self._read_references(parsed, existing)
        checked = []
        for line, row_id, cells in parsed:
            row = None
            if row_id is not None:
                row = existing.get(row_id)
                if row is None:
                    plan.error(line, "id", f"No {resource.singular} with id {row_id} (deleted since the export?); "
                                           f"leave the id empty to create a new {resource.singular}.")
                    continue
                if not self._version_ok(line, row, cells, plan):
                    continue
            item = self._validate(line, row, cells, plan)
            if item is not None:
                checked.append(item)
        return checked

    def _row_id(self, line: int, cells: list, plan):
        """The row's id, None for a new row, False (reported) for a bad one."""
        if "id" not in self.position or not cells[self.position["id"]].strip():
            return None
        row_id = _whole_number(cells[self.position["id"]])
        if row_id is None:
            plan.error(line, "id", "Must be an id (a whole number), or empty for a new row.")
            return False
        if row_id in self.seen_ids:
            plan.error(line, "id", f"The same id is on line {self.seen_ids[row_id]}; each row once.")
            return False
        self.seen_ids[row_id] = line
        return row_id

    def _version_ok(self, line: int, row, cells: list, plan) -> bool:
        if self.overwrite:
            return True
        raw = cells[self.position["version"]].strip()
        if not raw:
            plan.error(line, "version", "Give the version the row was exported at, or import with overwrite.")
            return False
        version = _whole_number(raw)
        if version != row.version:
            plan.error(line, "version", f"Changed since export: the file has version {raw}, the "
                                        f"{self.resource.singular} is now at version {row.version}. Export again, "
                                        "or import with overwrite.")
            return False
        return True

    def _read_references(self, parsed: list, existing: dict) -> None:
        kept = list(existing.values())
        for name, target_name in self.resource.relations.items():
            ids = {getattr(row, name) for row in existing.values()} - {None}
            if name in self.position:
                ids |= {_whole_number(cells[self.position[name]]) for _line, _id, cells in parsed} - {None}
            if ids:
                target = REGISTRY[target_name]
                kept += db.session.scalars(select(target.model).where(target.column("id").in_(ids))).all()
        self._kept = kept

    def _cell(self, name: str, raw: str):
        """A cell as the form takes it, or raises ValueError with the reason."""
        if name in self.resource.relations:
            number = _whole_number(raw)
            return number if number is not None else raw.strip()
        kind = self.kinds.get(name)
        if kind == TEXT:
            return unescape(raw)
        if kind == BOOLEAN:
            word = raw.strip().lower()
            if word not in TRUE_WORDS + FALSE_WORDS:
                raise ValueError("Must be true or false.")
            return word in TRUE_WORDS
        return raw

    def _validate(self, line: int, row, cells: list, plan) -> Checked | None:
        resource = self.resource
        data = {} if row is None else {name: "" if value is None else value
                                        for name, value in resource.writable_values(row).items()}
        bad = False
        for name in self.writable:
            try:
                data[name] = self._cell(name, cells[self.position[name]])
            except ValueError as error:
                plan.error(line, name, str(error))
                bad = True
        if bad:
            return None
        form = self.form
        form.process(formdata=MultiDict(data))
        problems = {} if form.validate() else {name: " ".join(messages) for name, messages in form.errors.items()
                                                if name in resource.writable}
        if not problems:
            problems = resource.edit_problems(row if row is not None else self.blank, form, self.actor)
        for name, message in problems.items():
            plan.error(line, name, message)
        if problems:
            return None
        filled = FilledForm(form, resource.writable)
        values = resource.form_values(filled)
        item = Checked(line, row, values, filled, validator=self)
        if row is not None:
            item.row_id, item.version = row.id, row.version
            item.changes = [(name, getattr(row, name), value) for name, value in values.items()
                            if getattr(row, name) != value]
            item.changes += [(name, "", "(changed)") for name in resource.write_only if filled[name].data]
        return item

    def apply(self, row, item: Checked) -> None:
        self.resource.apply(row, item.filled)
