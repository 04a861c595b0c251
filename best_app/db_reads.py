"""A read-only API request's reads, sent without BEGIN and ROLLBACK (PostgreSQL).

psycopg2 opens each transaction with a BEGIN of its own, a round trip before
the first statement, and the request's end rolls it back: another. A list page
that misses the cache makes one SELECT, so the transaction around it tripled
its round trips to the database. Under READ COMMITTED, which the app runs,
each statement sees a snapshot of its own whether or not a transaction
surrounds it: without one, a read sees exactly what it saw with one.

`without_transaction()` surrounds such a read. It switches psycopg2 to
autocommit for the block, and back after it, only when
- the request is GET or HEAD: it means to write nothing;
- the database is PostgreSQL: SQLite's BEGIN is no round trip;
- no transaction is open on the connection, and the session holds no change
  waiting to be flushed: nothing read or written before in this request is left
  hanging (a token check that went to the database has committed by then; one
  that had not would keep its transaction), and a read's autoflush cannot
  commit a change that the request's end would have rolled back.
Statements after the block run in a transaction as before, and the connection
goes back to the pool as it came.
"""
from __future__ import annotations

import contextlib

from flask import request
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from best_app.extensions import db

READ_ONLY_METHODS = ("GET", "HEAD")


@contextlib.contextmanager
def without_transaction():
    """Run the block's reads in autocommit where that is safe (see the module's text)."""
    dbapi_connection = _switchable()
    if dbapi_connection is None:
        yield
        return
    # psycopg2's own switch, not SQLAlchemy's isolation_level option: that one is undone
    # on the way back to the pool with a SET, a round trip of its own; this one costs none.
    dbapi_connection.autocommit = True
    try:
        yield
    finally:
        if not dbapi_connection.closed:  # a connection lost meanwhile is the pool's to replace
            dbapi_connection.autocommit = False


def _switchable():
    """The request's psycopg2 connection, if its reads may run in autocommit now."""
    if request.method not in READ_ONLY_METHODS:
        return None
    session = db.session()  # the request's Session (scoped_session proxies only part of it)
    if session.get_bind().dialect.name != "postgresql":
        return None
    if session.new or session.dirty or session.deleted:
        return None  # autoflush would write them, and in autocommit nothing would roll them back
    dbapi_connection = session.connection().connection.dbapi_connection  # no statement sent yet
    if dbapi_connection.get_transaction_status() != TRANSACTION_STATUS_IDLE:
        return None
    return dbapi_connection
