"""Who is asking: browser sessions for the admin pages, bearer tokens for the API."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user, logout_user
from sqlalchemy import select, update

from best_app.caching import SKIP_INVALIDATION, cached_token
from best_app.errors import is_api_request
from best_app.extensions import db, login_manager
from best_app.models import AdminSession, ApiToken, User, hash_token
from best_app.models.admin_session import ACTING_SESSION
from best_app.models.base import utcnow

# The admin session's secret, kept in the signed cookie beside Flask-Login's
# _user_id; the database holds only its hash (best_app.models.admin_session).
SESSION_SECRET_KEY = "_admin_session"
# How precisely a session's last request is noted; see _note_seen.
SEEN_PRECISION = timedelta(minutes=1)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The admin whose live session the cookie names, or None.

    The signed cookie alone proves nothing: it must name a row of
    admin_sessions that has not ended (logout, a password change, demotion,
    deletion) or expired, for this user, who must still be an admin. One
    indexed query answers all of that and loads the user. A remember-me
    cookie (never issued: login_user is called without remember) names no
    session, so it cannot bring an ended session back either.
    """
    secret = session.get(SESSION_SECRET_KEY)
    if not user_id.isdigit() or not isinstance(secret, str) or not 0 < len(secret) <= 100:
        return None
    found = AdminSession.lookup(int(user_id), secret, current_app.config.get("SESSION_IDLE_TIMEOUT"))
    if found is None:
        return None
    user, session_id, last_seen_at = found
    # A change this session makes to its own account does not end it.
    db.session.info[ACTING_SESSION] = session_id
    _note_seen(session_id, last_seen_at)
    return user


def _note_seen(session_id: int, last_seen_at) -> None:
    """Note the session's latest request, to the nearest SEEN_PRECISION (or a
    quarter of the idle timeout, if that is shorter), for the idle timeout.

    Like _record_use for tokens: bookkeeping in its own small transaction,
    before the view writes anything (the admin guard loads the user first), it
    invalidates no cached reads, and most requests skip it. Should the user be
    loaded after a view has started writing, it waits for another request.
    """
    now = utcnow()
    idle = current_app.config.get("SESSION_IDLE_TIMEOUT")
    precision = min(SEEN_PRECISION, idle / 4) if idle else SEEN_PRECISION
    if now - last_seen_at < precision or db.session.new or db.session.dirty or db.session.deleted:
        return
    db.session.execute(
        update(AdminSession).where(AdminSession.id == session_id).values(last_seen_at=now),
        execution_options={SKIP_INVALIDATION: True},
    )
    db.session.commit()


def begin_session(user: User) -> None:
    """Log `user` in to the admin pages with a new server-side session; the caller commits."""
    _row, secret = AdminSession.start(user, current_app.permanent_session_lifetime,
                                      request.remote_addr, request.user_agent.string)
    # No remember-me cookie: it would outlive the session it came from.
    login_user(user, remember=False)
    session[SESSION_SECRET_KEY] = secret


def end_session() -> None:
    """Log out: the session's row is deleted, so copies of the cookie stop working
    too; the caller commits."""
    secret = session.pop(SESSION_SECRET_KEY, None)
    if isinstance(secret, str):
        AdminSession.end(secret)
    logout_user()


def _forget_acting_session(error=None) -> None:
    # The database session may outlive the request (tests keep one app context).
    db.session.info.pop(ACTING_SESSION, None)


@dataclass(frozen=True)
class TokenIdentity:
    token_id: int
    user_id: int
    is_admin: bool


def _bearer_secret() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None


def _load_token_facts(token_hash: str) -> dict | bool:
    row = db.session.execute(
        select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at, User.is_admin)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        # Cache the miss too (as False), so guessing costs no repeated queries.
        return False
    _record_use(row.id, row.last_used_at)
    return {"token_id": row.id, "user_id": row.user_id, "is_admin": bool(row.is_admin)}


def _record_use(token_id: int, last_used_at) -> None:
    """Note when a token was last used, to the nearest TOKEN_CACHE_SECONDS.

    Bookkeeping, not the request's work: it gets its own small transaction
    before the view runs (so a failing request does not lose it, and it never
    mixes with the request's writes), it orphans no cached reads, and it is
    skipped while the last note is recent, so reads do not become writes.
    """
    now = utcnow()
    freshness = current_app.config.get("TOKEN_CACHE_SECONDS", 60)
    if last_used_at is not None and (now - last_used_at).total_seconds() < freshness:
        return
    db.session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now),
        execution_options={SKIP_INVALIDATION: True},
    )
    db.session.commit()


def authenticate_bearer() -> TokenIdentity | None:
    """The identity behind the request's bearer token, or None."""
    secret = _bearer_secret()
    if secret is None or len(secret) > 200:
        return None
    token_hash = hash_token(secret)
    facts = cached_token(token_hash, lambda: _load_token_facts(token_hash))
    if not facts:
        return None
    return TokenIdentity(**facts)


class SessionInterface(SecureCookieSessionInterface):
    """The admin pages' signed cookie session; API requests get none at all.

    The API must never be authenticated by a browser's cookie, and with no
    session its responses need no `Vary: Cookie`. Flask saves no null
    session, and writing to one is an error: the API has nothing to keep there.
    """

    def open_session(self, app, request):
        if is_api_request():
            return self.make_null_session(app)
        return super().open_session(app, request)


@contextmanager
def browser_only(app: Flask):
    """Keep the app-wide request hooks registered inside this block off API requests.

    CSRF checks, rate-limit bookkeeping and the remember-me cookie serve the
    admin pages' browser sessions. The API is exempt from CSRF and limits and
    has no session, so for it they only cost time: with Flask's own cost per
    hook, about a fifth of a cached read. They are replaced by one hook of
    each kind that runs them, in Flask's order, for every other request.
    """
    registries = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    existing = [len(registry.get(None, ())) for registry in registries]
    yield
    before, after, teardown = (registry.get(None, [])[count:] for registry, count in zip(registries, existing))
    for registry, count in zip(registries, existing):
        del registry.get(None, [])[count:]

    @app.before_request
    def browser_before_request():
        if not is_api_request():
            for hook in before:
                result = hook()
                if result is not None:  # a response (a CSRF or rate-limit error) ends the request
                    return result
        return None

    @app.after_request
    def browser_after_request(response):
        if not is_api_request():
            for hook in reversed(after):
                response = hook(response)
        return response

    @app.teardown_request
    def browser_teardown_request(error=None):
        if not is_api_request():
            for hook in reversed(teardown):
                hook(error)


def init_app(app) -> None:
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.teardown_request(_forget_acting_session)
