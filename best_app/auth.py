"""Who is asking: browser sessions for the admin pages, bearer tokens for the API."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select, update

from best_app.caching import SKIP_INVALIDATION, cached_token
from best_app.errors import is_api_request
from best_app.extensions import db, login_manager
from best_app.models import ApiToken, User, hash_token
from best_app.models.base import utcnow


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    # Losing admin rights ends the admin session at the next request.
    return user if user is not None and user.is_admin else None


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
