"""The database pool's check of a connection before lending it, made without a round trip.

A pooled connection can be dead: PostgreSQL restarted, or an administrator
ended the backend. SQLAlchemy's pre-ping finds out by sending `SELECT 1`
before every request's first statement: a round trip each time, one in every
four to six a request makes, and under waitress's threads each round trip is
also two waits for the GIL (best_app.socket_peek). Yet a server that ends a
connection says so on the socket: an idle connection has nothing to read
until then, and after it has the server's goodbye (a FATAL message) or the
end of the stream. So the check asks the socket whether anything is waiting:
anything at all means the connection is not to be trusted, and the pool
replaces it, and every connection opened before it (as after a failed
pre-ping, since a restart ends them all).

What it cannot see, a peer gone without a word (no FIN, no RST, as behind a
dead network link), the pre-ping would only have waited on; the first
statement then fails as it would have, and the pool is renewed. Connections
over TLS keep the pre-ping: there, bytes on the socket need not be a message.
Where the peek is unavailable, or the driver is not psycopg2, the pre-ping
stays as configured.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import make_url

from best_app.extensions import db
from best_app.socket_peek import always, waiting


def init_app(app: Flask) -> None:
    """db.init_app, with the pre-ping replaced by the peek where it applies."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    peek = bool(options.get("pool_pre_ping")) and _psycopg2(app.config.get("SQLALCHEMY_DATABASE_URI") or "") \
        and waiting is not always
    if peek:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "pool_pre_ping": False}
    db.init_app(app)
    if peek:
        with app.app_context():
            event.listen(db.engine.pool, "checkout", _refuse_closed_connections(db.engine.dialect))


def _psycopg2(url: str) -> bool:
    return bool(url) and make_url(url).get_driver_name() == "psycopg2"  # "postgresql://" means psycopg2


def _refuse_closed_connections(dialect):
    """A pool checkout listener: raising InvalidatePoolError makes the pool open a new
    connection in its place, and renew every connection opened before it."""
    def check(dbapi_connection, connection_record, connection_proxy) -> None:
        if dbapi_connection.closed:
            raise exc.InvalidatePoolError("the connection was closed")
        if dbapi_connection.info.ssl_in_use:
            if not dialect._do_ping_w_event(dbapi_connection):  # what pool_pre_ping does
                raise exc.InvalidatePoolError("the pre-ping failed")
        elif waiting(dbapi_connection.fileno()):
            raise exc.InvalidatePoolError("the server closed the connection, or sent something unasked")
    return check
