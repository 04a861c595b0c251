"""One error model: problem+json (RFC 9457) under /api/, HTML pages elsewhere.

A database that cannot be reached (down, restarting, out of connections,
locked) is not a bug: the request gets 503 with Retry-After, which nginx
retries on another replica for idempotent requests. Any other database error
is a bug and a 500.
"""
from __future__ import annotations

import logging
import sqlite3

from flask import Flask, Response, current_app, jsonify, request
from jinja2 import TemplateNotFound
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from best_app.extensions import db

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# A PostgreSQL restart or failover takes about a second; clients that honour
# Retry-After come back once it is over.
DATABASE_RETRY_AFTER_SECONDS = 1

# SQLSTATE classes meaning "the server cannot serve this connection now":
# 08 connection exception, 53 insufficient resources (too many connections),
# 57P01-57P05 operator intervention (shutdown, starting up, idle timeout), but
# not 57014, a cancelled statement.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open database file")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, detail: str | None = None, title: str | None = None,
            headers: dict | None = None, **extra) -> Response:
    """An application/problem+json response; `extra` become extension members."""
    from werkzeug.http import HTTP_STATUS_CODES

    body = {
        "type": extra.pop("type", "about:blank"),
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or title or HTTP_STATUS_CODES.get(status, "Error"),
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _passthrough_headers(error: HTTPException) -> dict:
    # Keep headers such as Allow (405) and WWW-Authenticate (401).
    return {k: v for k, v in error.get_headers() if k.lower() != "content-type"}


def handle_http_error(error: HTTPException):
    status = error.code or 500
    if is_api_request():
        extra = getattr(error, "problem_extra", None) or {}
        return problem(status, error.description, headers=_passthrough_headers(error), **extra)
    return _render_page(status, error), status, _passthrough_headers(error)


def _render_page(status: int, error: HTTPException) -> str:
    # An error page must render whatever broke, the database included, so it
    # skips the context processors: Flask-Login's loads the current user from
    # the database for every template, used or not. url_for, request and
    # get_flashed_messages are the environment's globals and still work.
    environment = current_app.jinja_env
    try:
        template = environment.get_template(f"errors/{status}.html")
    except TemplateNotFound:
        template = environment.get_template("errors/generic.html")
    return template.render(error=error)


def handle_unexpected_error(error: Exception):
    # A 500 is a bug: log it with its traceback, undo half-done work and show
    # the client nothing of the internals.
    log.exception("unhandled error on %s %s", request.method, request.path)
    rollback_quietly()
    return handle_http_error(InternalServerError())


def database_unavailable(error: BaseException) -> bool:
    """Whether a database error means "cannot reach the database now" rather than a bug."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection within DB_POOL_TIMEOUT
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        return str(cause) in _SQLITE_UNAVAILABLE
    if hasattr(cause, "pgcode") or hasattr(cause, "sqlstate"):  # psycopg2, psycopg 3
        sqlstate = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
        # No SQLSTATE: libpq failed before the server could answer (refused,
        # timed out, connection lost).
        return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    return False


def handle_database_error(error: sa_exc.SQLAlchemyError):
    if not database_unavailable(error):
        return handle_unexpected_error(error)
    # Expected during an outage and seen once per request: one line, no traceback.
    log.warning("database unavailable on %s %s: %s", request.method, request.path, summarise(error))
    # The transaction never committed: rolling back leaves nothing half-applied.
    rollback_quietly()
    return handle_http_error(ServiceUnavailable(
        "The database is unavailable right now; try again in a moment.",
        retry_after=DATABASE_RETRY_AFTER_SECONDS))


def summarise(error: BaseException) -> str:
    """The first line of the driver's message: what failed, without SQL or parameters."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def rollback_quietly() -> None:
    """Roll the session back; a connection already lost has nothing left to roll back."""
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError as error:
        if not database_unavailable(error):
            raise
        # The server discarded the transaction with the connection, which the
        # pool has now invalidated; the session is thrown away at the end of the request.
        log.debug("rollback on a lost connection: %s", summarise(error))


def end_transaction(error: BaseException | None = None) -> None:
    # A connection lost after the view finished (the database restarting
    # between the last query and the end of the request) must not turn a
    # finished response into a server error: Flask-SQLAlchemy's own teardown
    # closes the session, and closing rolls back, which raises on a dead
    # connection. Rolled back here first, that raise is caught, the connection
    # is invalidated, and the close that follows has nothing left to do.
    # Flask runs app-context teardowns last-registered first, and the factory
    # registers the extensions before the error handlers.
    if db.session.registry.has():
        rollback_quietly()


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa_exc.SQLAlchemyError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)
    app.teardown_appcontext(end_transaction)
