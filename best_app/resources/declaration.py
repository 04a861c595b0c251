"""One declaration per resource, read by the JSON API and the admin pages alike.

A Resource names the model and the form that validates it, the fields shown
and accepted, how lists are sorted, searched and filtered, which other
resources it refers to and which refer to it (and what deleting it does to
them), which fields are unique, and how the admin pages show it. The API
routes, the OpenAPI document, the admin pages, the navigation, the dashboard
and the delete previews are all built from these declarations: a feature is
written once, against them, and appears on every surface.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import DateTime, bindparam, delete, func, select, update

from best_app.extensions import db
from best_app.history import HISTORY_SOURCE
from best_app.resources.fields import FieldSpec, field_spec
from best_app.resources.filters import (BooleanFilter, ChoiceFilter, DateFilter, Filter, HasFilter, RefFilter,
                                        TextFilter)

DELETE, UNASSIGN = "delete", "unassign"


@dataclass(frozen=True)
class Dependent:
    """Rows of another resource that refer to this one, and what deleting this one does to them.

    DELETE: they are deleted with it, but only when the deletion says so
    (`?cascade=true` in the API, the confirmation page in the admin), as the
    database RESTRICTs it. UNASSIGN: their reference is cleared, with new
    versions so that clients holding their ETags see the change.
    """

    resource: str
    field: str
    on_delete: str


@dataclass(frozen=True)
class ListColumn:
    """A column of the admin list: title (links to the row), text, choice, bool, ref or when."""

    name: str
    label: str
    kind: str = "text"
    priority: int = 1  # 1 is always shown; 2 is hidden on narrow screens
    labels: tuple[str, str] | None = None  # a bool column's words for true and false (default: its filter's)
    badge: tuple[str, str] | None = None  # a title column's (boolean field, word) shown beside it when true


@dataclass(frozen=True)
class BulkAction:
    """Something the admin lists and the API's /<resource>/bulk may do to many rows at once.

    Either it deletes each row (with Resource.delete and its refusals), or it
    sets fields: `sets` fixed values (done: true), and `argument` a field
    whose value the caller gives (assignee_id), validated by the form's field.
    """

    name: str  # in the API and the forms: "mark_done"
    label: str  # on the admin pages: "Mark done"
    sets: dict = field(default_factory=dict)
    argument: str | None = None
    delete: bool = False

    def changes(self, value=None) -> dict:
        return {**self.sets, self.argument: value} if self.argument else dict(self.sets)


BULK_DELETE = BulkAction("delete", "Delete", delete=True)


class DependentsRemain(Exception):
    def __init__(self, counts: dict[str, int]):
        super().__init__(counts)
        self.counts = counts


@dataclass(eq=False)
class Resource:
    name: str  # URL segment, registry key
    model: type
    form: type
    label: str  # one row, in words: "user"
    title_field: str  # the field that names a row in pages and messages
    fields: tuple[str, ...]  # returned by the API, in this order
    writable: tuple[str, ...]
    description: str = ""
    write_only: tuple[str, ...] = ()
    exact_filters: tuple[str, ...] = ()  # text fields filtered by exact value
    sorts: tuple[str, ...] = ("id",)
    sort_expressions: dict = field(default_factory=dict)  # sort -> SQL expression, when not the column
    search: tuple[str, ...] = ()  # columns a case-insensitive substring search looks in
    search_relations: tuple[str, ...] = ()  # reference fields whose target's search finds these rows too
    relations: dict[str, str] = field(default_factory=dict)  # reference field -> resource it refers to
    # Filter -> value that narrows this resource's rows where the page of a row they refer to lists them
    # (a user's page shows their open tasks: {"done": "false"}).
    related_filters: dict[str, str] = field(default_factory=dict)
    unique: dict[str, str] = field(default_factory=dict)  # field unique ignoring case -> message when taken
    dependents: tuple[Dependent, ...] = ()
    list_columns: tuple[ListColumn, ...] = ()
    boolean_labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (yes, no)
    chart: str | None = None  # a boolean field whose split the dashboard draws
    nav: bool = True
    history: bool = True  # every change is recorded in the change log (best_app.history)
    secret_fields: dict[str, str] = field(default_factory=dict)  # column -> name logged as "changed", no value
    counters: dict[str, str] = field(default_factory=dict)  # referring resource -> column counting its rows
    bulk_actions: tuple[BulkAction, ...] = (BULK_DELETE,)  # best_app.resources.bulk

    def bulk_action(self, name: str) -> BulkAction | None:
        return next((action for action in self.bulk_actions if action.name == name), None)

    # -- names ---------------------------------------------------------------
    @property
    def singular(self) -> str:
        return self.label

    @property
    def title(self) -> str:
        return self.name.capitalize()

    @property
    def table(self) -> str:
        return self.model.__tablename__

    # -- fields --------------------------------------------------------------
    @cached_property
    def specs(self) -> dict[str, FieldSpec]:
        """Writable field name -> FieldSpec, read from the form (needs an app context)."""
        form = self.blank_form()
        return {name: field_spec(form[name]) for name in self.writable}

    def blank_form(self):
        return self.form(formdata=None, meta={"csrf": False})

    def column(self, name: str):
        return self.model.__table__.c[name]

    def sort_expression(self, name: str):
        return self.sort_expressions.get(name, self.column(name) if name in self.model.__table__.c else None)

    def serialize(self, row) -> dict:
        """The API's view of a row (an ORM object or a plain row of the columns)."""
        data = {}
        for name in self.fields:
            value = getattr(row, name)
            data[name] = value.isoformat() if isinstance(value, datetime) else value
        return data

    @cached_property
    def _stamps(self) -> tuple[str, ...]:
        """The fields that hold date-times, which JSON carries as ISO 8601 text."""
        return tuple(name for name in self.fields
                     if isinstance(getattr(self.column(name).type, "impl", self.column(name).type), DateTime))

    def serialize_rows(self, rows) -> list[dict]:
        """serialize() for each of many plain rows whose first columns are `fields`, in
        order (as lists select them): by position, and converting only the date-times.
        A subclass that overrides serialize() must override this too (a test compares them)."""
        fields, stamps = self.fields, self._stamps
        items = []
        for row in rows:
            data = dict(zip(fields, row))
            for name in stamps:
                value = data[name]
                if value is not None:
                    data[name] = value.isoformat()
            items.append(data)
        return items

    def writable_values(self, row) -> dict:
        """The current values of the writable fields, as a PATCH starts from."""
        current = self.serialize(row)
        return {name: current[name] for name in self.writable if name not in self.write_only}

    def form_values(self, form) -> dict:
        """The column values validated form data stands for: the one place that
        says, for every surface (an import's diff reads them too)."""
        values = {}
        for name in self.writable:
            if name in self.write_only:
                continue
            value = form[name].data
            if value is None or value == "":
                # An omitted or empty optional string: NULL where the column
                # allows it, else the empty string.
                value = None if self.column(name).nullable else ""
            values[name] = value
        return values

    def apply(self, row, form) -> None:
        """Copy validated form data onto the row."""
        for name, value in self.form_values(form).items():
            setattr(row, name, value)

    def get(self, row_id: int):
        """The row with this id, an object in the request's session, or None."""
        return db.session.execute(self._by_id, {"row_id": row_id}).scalar_one_or_none()

    @cached_property
    def _by_id(self):
        # Built once. Session.get builds its statement anew on every call, and SQLAlchemy
        # then walks it for its cache key: a third of the CPU of reading one row.
        return select(self.model).where(self.model.id == bindparam("row_id"))

    def title_of(self, row_id: int) -> str | None:
        return db.session.scalar(select(self.column(self.title_field)).where(self.column("id") == row_id))

    # -- rules ---------------------------------------------------------------
    def conflicts(self, form, row) -> dict[str, str]:
        """Unique fields whose values another row already holds, ignoring case (409)."""
        taken = {}
        for name, message in self.unique.items():
            value = form[name].data
            if not value:
                continue
            clause = func.lower(self.column(name)) == value.lower()
            if row is not None and row.id is not None:
                clause = clause & (self.column("id") != row.id)
            if db.session.scalar(select(self.column("id")).where(clause).limit(1)) is not None:
                taken[name] = message
        return taken

    def edit_problems(self, row, form, actor) -> dict[str, str]:
        """Field -> why `actor` may not save this (rules beyond the form's). None by default."""
        return {}

    def save_notes(self, row) -> list[str]:
        """Warnings worth showing whoever just saved `row` (saved, but perhaps not as meant)."""
        return []

    def delete_refusal(self, row, actor) -> str | None:
        """Why `actor` may not delete this row, or None."""
        return None

    # -- lists ---------------------------------------------------------------
    @cached_property
    def filters(self) -> dict[str, Filter]:
        """Every filter of this resource's lists, by parameter name (needs an app context).

        Derived: each boolean and each choice field, each reference (with
        "none" where it may be unset), the declared exact text filters, the
        created/updated date ranges, and has_<resource> for each resource
        that refers to this one.
        """
        from best_app.resources import referrers

        form, found = self.blank_form(), {}
        for name, spec in self.specs.items():
            if name in self.write_only:
                continue
            label = form[name].label.text
            column = self.column(name)
            if spec.type == "boolean":
                yes, no = self.boolean_labels.get(name, ("Yes", "No"))
                found[name] = BooleanFilter(name, label, column, yes=yes, no=no)
            elif spec.enum is not None:
                choices = tuple((value, text) for value, text, *_ in form[name].iter_choices())
                found[name] = ChoiceFilter(name, label, column, choices=choices)
            elif name in self.relations:
                found[name] = RefFilter(name, label, column, target=self.relations[name], nullable=spec.nullable)
            elif name in self.exact_filters:
                found[name] = TextFilter(name, label, column, max_length=spec.max_length)
        for stamp, words in (("created_at", "Created"), ("updated_at", "Changed")):
            if stamp in self.model.__table__.c:
                column, prefix = self.column(stamp), stamp.removesuffix("_at")
                found[f"{prefix}_after"] = DateFilter(f"{prefix}_after", f"{words} on or after", column)
                found[f"{prefix}_before"] = DateFilter(f"{prefix}_before", f"{words} before", column, before=True)
        for other, fk in referrers(self.name):
            counter = self.column(self.counters[other.name]) if other.name in self.counters else None
            found[f"has_{other.name}"] = HasFilter(
                f"has_{other.name}", f"Has {other.name}", child_fk=other.column(fk), parent_id=self.column("id"),
                counter=counter,
                options_=[("true", f"With {other.name}"), ("false", f"Without {other.name}")])
        return found

    # -- deleting ------------------------------------------------------------
    def dependent_counts(self, row) -> dict[str, int]:
        from best_app.resources import REGISTRY

        counts = {}
        for dependent in self.dependents:
            other = REGISTRY[dependent.resource]
            counts[dependent.resource] = db.session.scalar(
                select(func.count()).select_from(other.model).where(other.column(dependent.field) == row.id))
        return counts

    def dependents_fingerprint(self, row) -> str:
        """What a delete preview showed of the rows deleted with this one: their number and highest id.

        A row added after the preview must not be deleted unseen; this row's
        own version does not change when that happens.
        """
        from best_app.resources import REGISTRY

        parts = []
        for dependent in self.dependents:
            if dependent.on_delete == DELETE:
                other = REGISTRY[dependent.resource]
                count, highest = db.session.execute(
                    select(func.count(), func.coalesce(func.max(other.column("id")), 0))
                    .where(other.column(dependent.field) == row.id)).one()
                parts.append(f"{dependent.resource}:{count}:{highest}")
        return ",".join(parts)

    def delete(self, row, confirmed: bool) -> None:
        """Delete the row with what depends on it, in the request's transaction.

        Raises DependentsRemain when rows that go with it exist and the
        deletion was not confirmed.
        """
        from best_app.resources import REGISTRY

        counts = self.dependent_counts(row)
        remaining = {name: count for name, count in counts.items() if count and any(
            d.resource == name and d.on_delete == DELETE for d in self.dependents)}
        if remaining and not confirmed:
            raise DependentsRemain(remaining)
        cascade = {HISTORY_SOURCE: "cascade", "synchronize_session": False}
        for dependent in self.dependents:
            other = REGISTRY[dependent.resource]
            reference = other.column(dependent.field)
            if dependent.on_delete == DELETE:
                db.session.execute(delete(other.model).where(reference == row.id), execution_options=cascade)
            else:
                db.session.execute(
                    update(other.model).where(reference == row.id)
                    .values({dependent.field: None, "version": other.column("version") + 1}),
                    execution_options=cascade)
        db.session.delete(row)
