"""SQLite needs to be told to enforce foreign keys (RESTRICT, SET NULL, CASCADE)."""
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _enable_foreign_keys(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def init_app(app) -> None:
    if not event.contains(Engine, "connect", _enable_foreign_keys):
        event.listen(Engine, "connect", _enable_foreign_keys)
