"""Recording the change log: who changed which row of a resource, how, from where.

Writes need not remember to record anything. Session hooks write one
`changes` row per created, updated or deleted row of every resource declared
with `history` (best_app.resources), in the same transaction:
- rows the ORM flushes (the admin pages, the API, the CLI), with the old and
  new value of each field that changed;
- rows changed by bulk UPDATE or DELETE statements (a user's cars deleted with
  them, their tasks unassigned), read before and after the statement.

Secrets are never stored: a field listed in the declaration's
`secret_fields` is recorded as "changed", without its value or hash.

Who and where come from the request (set_actor, called by the API and the
admin pages once they know who is asking) or, outside a request, from the
operating system user of a `flask` command. Each request gets an id, taken
from a well-formed X-Request-ID (nginx sends one) or made up, and echoed in
the response, so a log line, a response and a change can be matched.
"""
from __future__ import annotations

import functools
import getpass
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session

from best_app.models.base import utcnow
from best_app.models.change import CREATE, DELETE, UPDATE, Change

# Execution options of bulk statements: the source to record ("cascade"), or none at all.
HISTORY_SOURCE = "best_app_history_source"
SKIP_HISTORY = "best_app_skip_history"
NOT_TRACKED = {"id", "created_at", "updated_at", "version"}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class Actor:
    label: str
    user_id: int | None
    source: str


def set_actor(label: str, user_id: int | None, source: str) -> None:
    g.history_actor = Actor(label[:160], user_id, source)


def current_actor() -> Actor:
    if has_request_context():
        actor = g.get("history_actor")
        if actor is not None:
            return actor
        return Actor("anonymous", None, "api" if request.path.startswith("/api/") else "admin")
    return _command_actor()


@functools.cache
def _command_actor() -> Actor:
    """The operating system user of this `flask` command: asked once, not for every row a bulk write records."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name for this uid (a container without /etc/passwd entry)
        user = "unknown"
    return Actor(f"cli {user}", None, "cli")


def request_id() -> str | None:
    if not has_request_context():
        return None
    rid = g.get("request_id")
    if rid is None:
        sent = request.headers.get("X-Request-ID", "")
        rid = g.request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
    return rid


# -- what a row looks like to the log --------------------------------------------

_BY_TABLE: dict = {}


def _resource_of(table: str):
    """The resource with history kept in `table`, or None. Looked up for every object
    of every flush: the map is made once (resources register at import)."""
    if not _BY_TABLE:
        from best_app.resources import REGISTRY

        _BY_TABLE.update({resource.table: resource for resource in REGISTRY.values() if resource.history})
    return _BY_TABLE.get(table)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _tracked(resource) -> list[str]:
    return [name for name in resource.fields if name not in NOT_TRACKED]


def _entry(resource, row_id: int, action: str, version, fields: dict) -> dict:
    actor = current_actor()
    return {"resource": resource.name, "row_id": row_id, "action": action, "version": version,
            "changed_at": utcnow(), "actor": actor.label, "actor_user_id": actor.user_id,
            "source": actor.source, "request_id": request_id(), "fields": fields}


def _flushed_entry(resource, obj, action: str) -> dict | None:
    state = inspect(obj)
    fields = {}
    for name in _tracked(resource):
        value = _plain(getattr(obj, name, None))
        if action == CREATE:
            fields[name] = [None, value]
        elif action == DELETE:
            fields[name] = [value, None]
        else:
            history = state.attrs[name].history
            if history.has_changes():
                old = _plain(history.deleted[0]) if history.deleted else None
                if old != value:
                    fields[name] = [old, value]
    for attribute, name in resource.secret_fields.items():
        if action != DELETE and state.attrs[attribute].history.has_changes():
            fields[name] = "changed"
    if action == UPDATE and not fields:
        return None  # only untracked columns (a version bump alone) changed
    return _entry(resource, obj.id, action, None if action == DELETE else obj.version, fields)


def record_written(session: Session, resource, action: str, rows: list[tuple[int, int, dict]]) -> None:
    """Record rows a bulk statement created or updated with SKIP_HISTORY (the caller knew the
    old and new values, so no hook need read them): (row id, new version, {field: (old, new)})."""
    if not _enabled() or not resource.history:
        return
    tracked = set(_tracked(resource))
    _write(session, [_entry(resource, row_id, action, version,
                            {name: [_plain(old), _plain(new)] for name, (old, new) in fields.items() if name in tracked})
                     for row_id, version, fields in rows])


_INSERTS: dict = {}


def _insert_for(dialect: str):
    """The INSERT of log entries for a database dialect, built once (every write flushes one)."""
    statement = _INSERTS.get(dialect)
    if statement is None:
        statement = insert(Change)
        if dialect == "postgresql":
            # Every entry of a transaction carries its id: the change feed's order and horizon.
            statement = statement.values(txid=func.txid_current())
        _INSERTS[dialect] = statement
    return statement


def _write(session: Session, entries: list[dict]) -> None:
    if not entries:
        return
    connection = session.connection()
    connection.execute(_insert_for(connection.dialect.name), entries)


# -- the hooks -----------------------------------------------------------------------

def _enabled() -> bool:
    # HISTORY_ENABLED false (a benchmark's baseline) records nothing. A session
    # used outside any app (a script's own engine) records as usual.
    return not has_app_context() or current_app.config.get("HISTORY_ENABLED", True)


@event.listens_for(Session, "after_flush")
def _record_flushed(session, flush_context):
    if not _enabled():
        return
    entries = []
    for objects, action in ((session.new, CREATE), (session.dirty, UPDATE), (session.deleted, DELETE)):
        for obj in objects:
            resource = _resource_of(getattr(obj, "__tablename__", ""))
            if resource is None or (action == UPDATE and not session.is_modified(obj)):
                continue
            entry = _flushed_entry(resource, obj, action)
            if entry is not None:
                entries.append(entry)
    _write(session, entries)


@event.listens_for(Session, "do_orm_execute")
def _record_bulk(state):
    # Bulk INSERTs (`flask seed`) are not recorded: see docs/api.md.
    if not _enabled():
        return None
    if not (state.is_update or state.is_delete) or state.execution_options.get(SKIP_HISTORY):
        return None
    table = getattr(state.statement, "table", None)
    resource = _resource_of(table.name) if table is not None else None
    if resource is None:
        return None
    session, columns = state.session, [resource.column(name) for name in ("id", "version", *_tracked(resource))]
    where = state.statement.whereclause
    read = select(*columns) if where is None else select(*columns).where(where)
    before = {row.id: row for row in session.execute(read, execution_options={SKIP_HISTORY: True})}
    result = state.invoke_statement()
    if not before:
        return result
    after = {}
    if state.is_update:
        again = select(*columns).where(resource.column("id").in_(list(before)))
        after = {row.id: row for row in session.execute(again, execution_options={SKIP_HISTORY: True})}
    source = state.execution_options.get(HISTORY_SOURCE, "bulk")
    entries = []
    for row_id, old in before.items():
        new = after.get(row_id)
        if state.is_update and new is None:
            continue
        fields = {name: [_plain(getattr(old, name)), None if new is None else _plain(getattr(new, name))]
                  for name in _tracked(resource)
                  if new is None or getattr(old, name) != getattr(new, name)}
        if new is not None and not fields:
            continue
        entry = _entry(resource, row_id, DELETE if new is None else UPDATE, None if new is None else new.version,
                       fields)
        entry["source"] = source
        entries.append(entry)
    _write(session, entries)
    return result


def init_app(app: Flask) -> None:
    @app.after_request
    def echo_request_id(response):
        rid = g.get("request_id")
        if rid is not None:
            response.headers["X-Request-ID"] = rid
        return response


# -- reading it back -------------------------------------------------------------------

def state_as_of(resource, row_id: int, change_id: int) -> dict | None:
    """A row's tracked fields as they were after change `change_id` (before it, for a
    deletion), from its log; fields the log no longer holds (pruned) are left out.
    None when that change is not one of this row's."""
    from best_app.extensions import db

    log = db.session.scalars(select(Change).where(Change.resource == resource.name, Change.row_id == row_id,
                                                  Change.id <= change_id).order_by(Change.id)).all()
    if not log or log[-1].id != change_id:
        return None
    values = {}
    for entry in log:
        if entry.action == DELETE:
            if entry.id == change_id:
                break  # restoring a deletion: the row as it was just before it
            values = {}
            continue
        for name, change in entry.fields.items():
            if isinstance(change, list) and name in resource.writable:
                values[name] = change[1]
    return values
