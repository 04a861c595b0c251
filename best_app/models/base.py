"""Column helpers shared by the models: UTC timestamps and optimistic locking."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, event, func, types
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

# PostgreSQL's integer; a larger id cannot exist, and must not reach a query (it would overflow).
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(types.TypeDecorator):
    """A timezone-aware timestamp that always comes back in UTC.

    SQLite stores no offset, so values read from it are naive; we know they
    were written in UTC and say so. PostgreSQL sends each value in the
    session's time zone, which every psycopg2 connection sets to UTC as it
    opens (_utc_sessions, below): its values need no conversion, and skipping
    it is a twentieth of the CPU of a list page that misses the cache (a hundred
    timestamps, each through two Python calls).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def result_processor(self, dialect, coltype):
        if dialect.driver == "psycopg2":
            return None
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        if value is not None and dialect.name == "sqlite":
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


@event.listens_for(Engine, "connect")
def _utc_sessions(dbapi_connection, connection_record):
    """Every psycopg2 connection's session time zone is UTC, whatever the server's
    default: timestamps then arrive in UTC (see UTCDateTime). A session setting,
    which poolers such as PgBouncer carry over to each server connection they lend."""
    if type(dbapi_connection).__module__.partition(".")[0] != "psycopg2":
        return
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # so that no rollback undoes it
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
    finally:
        dbapi_connection.autocommit = autocommit


class TimestampMixin:
    # Callables, not values: each row gets the time it was written.
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=func.now(), nullable=False
    )


class VersionedMixin:
    """An integer version bumped on every update.

    SQLAlchemy adds `WHERE version = :old` to each UPDATE, so a write based
    on a stale read fails with StaleDataError instead of silently winning.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}
