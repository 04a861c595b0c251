"""Bulk actions: one declared action (Resource.bulk_actions) applied to many rows, in one transaction.

Written once for every resource, and used by the API (/api/v1/<resource>/bulk)
and the admin lists alike. Rows are deleted one by one through
Resource.delete, as a single delete would be; fields are set with a few
version-checked UPDATE statements through the session (BulkRun._update). Either
way the version bump, the change log (one entry per row), the cache
invalidation and the counters (database triggers) stay right. A row is left alone, and reported,
when it changed since the caller saw it (its version differs), was deleted,
is refused by the declaration's rules (Resource.delete_refusal,
Resource.edit_problems), or would take rows with it that the caller did not
agree to. The caller owns the transaction: `run` never commits.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from best_app.extensions import db
from best_app.history import HISTORY_SOURCE, current_actor
from best_app.resources.counting import BOUND
from best_app.resources.declaration import DELETE, BulkAction, Resource
from best_app.resources.query import ListQuery, matching_ids

MAX_ROWS = BOUND  # one action touches at most this many rows
CHANGED, UNCHANGED, CONFLICT, NOT_FOUND, REFUSED = "changed", "unchanged", "conflict", "not_found", "refused"
OUTCOMES = (CHANGED, UNCHANGED, CONFLICT, NOT_FOUND, REFUSED)
CHUNK = 1000  # ids per IN (...) list
AMBIGUOUS = 0  # the version expected of a row named twice with different versions: no row has it


class TooMany(ValueError):
    def __init__(self):
        super().__init__(f"The selection holds more than {MAX_ROWS:,} rows; narrow the filters "
                         f"(at most {MAX_ROWS:,} rows per bulk action).")


class BadArgument(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name, self.message = name, message


@dataclass
class Outcome:
    id: int
    outcome: str
    version: int | None = None  # after the change; else the row's current version
    reason: str | None = None
    title: str | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    dependents: dict = field(default_factory=dict)  # resource -> rows deleted or unassigned with it
    fingerprint: str | None = None  # what a delete would take with it (Resource.dependents_fingerprint)

    def as_json(self) -> dict:
        data = {"id": self.id, "outcome": self.outcome, "version": self.version}
        if self.reason is not None:
            data["reason"] = self.reason
        return data


@dataclass
class Result:
    outcomes: list[Outcome]

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(OUTCOMES, 0)
        for outcome in self.outcomes:
            totals[outcome.outcome] += 1
        return totals

    def where(self, *kinds: str) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.outcome in kinds]


def matching(resource: Resource, query: ListQuery) -> list[int]:
    """The ids of every row a list query matches, in order; TooMany past MAX_ROWS."""
    ids = sorted(set(db.session.scalars(matching_ids(resource, query).limit(MAX_ROWS + 1))))
    if len(ids) > MAX_ROWS:
        raise TooMany()
    return ids


def check_argument(resource: Resource, action: BulkAction, value):
    """The action's argument as its form field reads it (a user's id from an id or a
    username), or BadArgument naming the field. None for an action without one."""
    if action.argument is None:
        return None
    form = resource.form(formdata=MultiDict({action.argument: "" if value is None else value}),
                         meta={"csrf": False})
    bound = form[action.argument]
    if not bound.validate(form):
        raise BadArgument(action.argument, " ".join(bound.errors))
    if bound.data is None:
        raise BadArgument(action.argument, f"Choose the {bound.label.text.lower()}.")
    return bound.data


def _rows(resource: Resource, ids: list[int], lock: bool) -> dict:
    found = {}
    for start in range(0, len(ids), CHUNK):
        statement = (select(resource.model).where(resource.column("id").in_(ids[start:start + CHUNK]))
                     .order_by(resource.column("id")))
        if lock:  # in id order, so two bulk actions cannot deadlock on each other; as they are now
            statement = statement.with_for_update().execution_options(populate_existing=True)
        found.update((row.id, row) for row in db.session.scalars(statement))
    return found


def _checks_edits(resource: Resource) -> bool:
    return type(resource).edit_problems is not Resource.edit_problems


class BulkRun:
    """One action over a selection: `expected` maps each id to the version the caller
    saw (None: whatever it is now). Subclass to change how one row is judged."""

    def __init__(self, resource: Resource, action: BulkAction, expected: dict[int, int | None], *, value=None,
                 actor=None, cascade: bool = False, fingerprints: dict[int, str] | None = None):
        if len(expected) > MAX_ROWS:
            raise TooMany()
        self.resource, self.action, self.expected, self.value = resource, action, expected, value
        self.actor, self.cascade, self.fingerprints = actor, cascade, fingerprints or {}

    def preview(self) -> Result:
        """What `apply` would do now, writing nothing."""
        return self._run(write=False)

    def apply(self) -> Result:
        """Change the rows in the session (the caller commits); versions are those after the change."""
        result = self._run(write=True)
        if self.action.delete:
            for _outcome, row in self._written:
                self.resource.delete(row, confirmed=True)
            db.session.flush()
        else:
            self._update([row for _outcome, row in self._written])
            for outcome, _row in self._written:
                outcome.version += 1
        return result

    def _update(self, rows: list) -> None:
        """Set the action's values on `rows`: one UPDATE per version they are at (per CHUNK
        of them), each requiring that version, as the ORM's per-row check would, but in a
        few statements instead of one per row. Through the session, so the change log
        records each row and the cache is invalidated on commit; StaleDataError if a row
        moved on (nothing is then written: the caller rolls back)."""
        column = self.resource.column
        values = {**self.action.changes(self.value), "version": column("version") + 1}
        options = {HISTORY_SOURCE: current_actor().source, "synchronize_session": False}
        by_version = defaultdict(list)
        for row in rows:
            by_version[row.version].append(row.id)
        for version, ids in by_version.items():
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                statement = (update(self.resource.model).where(column("id").in_(chunk), column("version") == version)
                             .values(values))
                if db.session.execute(statement, execution_options=options).rowcount != len(chunk):
                    raise StaleDataError(f"{self.resource.name}: a row changed during the bulk update")
        for row in rows:
            db.session.expire(row)

    def _run(self, write: bool) -> Result:
        ids = sorted(self.expected)
        rows = _rows(self.resource, ids, lock=write)
        self._written, outcomes = [], []
        for row_id in ids:
            row = rows.get(row_id)
            outcome = Outcome(row_id, NOT_FOUND, reason=f"No {self.resource.singular} with id {row_id}.") \
                if row is None else self.judge(row, self.expected[row_id])
            if row is not None:
                outcome.title = getattr(row, self.resource.title_field)
            outcomes.append(outcome)
            if write and outcome.outcome == CHANGED:
                self._written.append((outcome, row))
        return Result(outcomes)

    def judge(self, row, seen: int | None) -> Outcome:
        resource, action = self.resource, self.action
        if seen == AMBIGUOUS:
            return Outcome(row.id, CONFLICT, row.version, reason="Given with two different versions.")
        if seen is not None and seen != row.version:
            return Outcome(row.id, CONFLICT, row.version, reason=f"Changed by someone else since it was read "
                                                                 f"(version {seen}, now {row.version}).")
        if action.delete:
            return self._judge_delete(row)
        changes = action.changes(self.value)
        before = {name: getattr(row, name) for name in changes}
        if before == changes:
            return Outcome(row.id, UNCHANGED, row.version, reason="Already so.", before=before, after=changes)
        if _checks_edits(resource):
            values = {**resource.writable_values(row), **changes}
            form = resource.form(formdata=None, data=values, meta={"csrf": False})
            problems = resource.edit_problems(row, form, self.actor)
            if problems:
                return Outcome(row.id, REFUSED, row.version, reason=" ".join(problems.values()))
        return Outcome(row.id, CHANGED, row.version, before=before, after=changes)

    def _judge_delete(self, row) -> Outcome:
        resource = self.resource
        refusal = resource.delete_refusal(row, self.actor)
        if refusal:
            return Outcome(row.id, REFUSED, row.version, reason=refusal)
        counts = resource.dependent_counts(row)
        cascading = {d.resource for d in resource.dependents if d.on_delete == DELETE}
        fingerprint = resource.dependents_fingerprint(row) if cascading else None
        taken = {name: count for name, count in counts.items() if count and name in cascading}
        if taken and not self.cascade:
            what = ", ".join(f"{count} {name}" for name, count in taken.items())
            return Outcome(row.id, REFUSED, row.version, reason=f"Still has {what}; delete them too (cascade) "
                                                                f"or reassign them first.", dependents=counts)
        if row.id in self.fingerprints and self.fingerprints[row.id] != fingerprint:
            return Outcome(row.id, CONFLICT, row.version, dependents=counts,
                           reason="What would be deleted with it changed since the preview.")
        return Outcome(row.id, CHANGED, row.version, dependents=counts, fingerprint=fingerprint)
