"""Recording the login audit trail (best_app.models.login_event) and its log lines.

`record` writes an event into the caller's transaction, so it commits or rolls
back with what it records (a login's new session, a token, a password). A
refused login has no transaction of its own: `record_alone` commits its event
by itself and never lets a database error turn the refusal into a server error.
A password change is recorded by the flush hook below, whichever path made it
(admin pages, API, `flask` commands), as the admin sessions it ends are.

Each event is also one log line on the "best_app.audit" logger, as JSON, once
its transaction commits (or, for a refusal whose event could not be stored,
at once, saying so). Neither ever holds a secret.

Events are inserted with a plain INSERT that skips cache invalidation: nothing
cached reads them, and a failed login, which anyone can cause, must cost no
cache write.
"""
from __future__ import annotations

import json
import logging
import time
import unicodedata

from flask import current_app, has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy import insert, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from best_app.caching import SKIP_INVALIDATION
from best_app.extensions import db
from best_app.history import current_actor
from best_app.models import User
from best_app.models.base import utcnow
from best_app.models.login_event import (
    ADDRESS_LENGTH,
    LOGIN_FAILED,
    LOGIN_LENGTH,
    PASSWORD_CHANGED,
    THROTTLED,
    USER_AGENT_LENGTH,
    LoginEvent,
)

log = logging.getLogger("best_app.audit")

_PENDING = "best_app_audit_pending"  # Session.info: log lines waiting for their commit
# A throttled client may keep trying as fast as it likes: each (address, login)
# is recorded at most once per THROTTLE_WINDOW seconds by each process.
THROTTLE_WINDOW = 60
_THROTTLE_MEMORY = 10_000


def clean(text: str | None, length: int) -> str:
    """`text` without control or format characters (newlines, escapes, bidi
    overrides: nothing that can forge a log line or disguise a name), cut to `length`."""
    text = "".join(c for c in (text or "") if unicodedata.category(c) not in ("Cc", "Cf"))
    return text.strip()[:length]


def _client() -> dict:
    if not has_request_context():
        return {"address": None, "user_agent": None}  # a `flask` command
    return {"address": (request.remote_addr or "")[:ADDRESS_LENGTH] or None,
            "user_agent": clean(request.user_agent.string, USER_AGENT_LENGTH)}


def _row(kind: str, user: User | None = None, login: str | None = None, reason: str | None = None,
         token_id: int | None = None, actor_id: int | None = None) -> dict:
    """The event's columns. `login` defaults to the account's username; `actor_id`
    (the admin acting) is kept only when that is not the account itself."""
    user_id = user.id if user is not None else None
    if login is None:
        login = user.username if user is not None else ""
    return {"occurred_at": utcnow(), "kind": kind, "reason": reason, "user_id": user_id,
            "login": clean(login, LOGIN_LENGTH), "actor_id": actor_id if actor_id != user_id else None,
            "token_id": token_id, **_client()}


def _line(row: dict, **extra) -> str:
    fields = {"event": row["kind"], **{k: v for k, v in row.items() if k != "kind" and v is not None}, **extra}
    fields["occurred_at"] = row["occurred_at"].isoformat()
    # ASCII JSON: whatever a client typed, the line stays one line.
    return json.dumps(fields, sort_keys=True)


def _insert(session: Session, row: dict) -> None:
    session.execute(insert(LoginEvent).values(**row), execution_options={SKIP_INVALIDATION: True})
    session.info.setdefault(_PENDING, []).append(row)


def record(kind: str, **fields) -> None:
    """Write an event (see _row) into the current transaction; the caller commits."""
    _insert(db.session, _row(kind, **fields))


def record_alone(kind: str, **fields) -> None:
    """Record an event that has no transaction of its own (a refused login) and commit it.

    If it cannot be stored, the event is still logged, as not stored, and the
    caller answers as it would have: a refusal must not become a server error.
    """
    row = _row(kind, **fields)
    try:
        _insert(db.session, row)
        db.session.commit()
    except SQLAlchemyError as error:
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass  # a lost connection: nothing is left to roll back
        log.warning("%s", _line(row, stored=False, error=type(error).__name__))


def record_throttled(user: User | None, login: str) -> None:
    """Record a login refused by the throttle, like record_alone, once per client
    address and login name per THROTTLE_WINDOW seconds in this process: a client
    that keeps trying must not be able to fill the table (or the log) at its own pace."""
    seen = current_app.extensions.setdefault("best_app.audit.throttled", {})
    key = (request.remote_addr, clean(login, LOGIN_LENGTH).lower())
    now = time.monotonic()
    if key in seen and now - seen[key] < THROTTLE_WINDOW:
        return
    if len(seen) >= _THROTTLE_MEMORY:
        seen.clear()  # crude, but bounded; at worst a few more rows
    seen[key] = now
    record_alone(LOGIN_FAILED, user=user, login=login, reason=THROTTLED)


# -- the hooks -------------------------------------------------------------------------

@sa_event.listens_for(Session, "before_flush")
def _record_password_changes(session, flush_context, instances):
    # In the same transaction as the change, like the ending of the account's
    # admin sessions (best_app.models.admin_session). A new account's first
    # password is part of creating it, not a change.
    for user in session.dirty:
        if isinstance(user, User) and inspect(user).attrs.password_hash.history.added:
            # The actor as the change log sees it: the API token's user or the
            # logged-in admin; none for a `flask` command.
            _insert(session, _row(PASSWORD_CHANGED, user, actor_id=current_actor().user_id))


@sa_event.listens_for(Session, "after_commit")
def _log_committed(session):
    for row in session.info.pop(_PENDING, ()):
        log.info("%s", _line(row))


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction):
    session.info.pop(_PENDING, None)
