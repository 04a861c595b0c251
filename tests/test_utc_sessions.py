"""Timestamps come back from PostgreSQL in UTC whatever the server's time zone:
every psycopg2 connection sets its session's to UTC as it opens, and
UTCDateTime relies on that instead of converting each value."""
from __future__ import annotations

import os
from datetime import timezone

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from best_app.models import User
from tests.conftest import USING_POSTGRES, make_user

pytestmark = pytest.mark.skipif(not USING_POSTGRES, reason="PostgreSQL's session time zone")


@pytest.fixture
def paris_engine(app):
    """An engine whose connections start in Paris' time zone (never +00:00), as a
    server or role configured so would give them."""
    engine = create_engine(os.environ["TEST_DATABASE_URL"], connect_args={"options": "-c timezone=Europe/Paris"})
    yield engine
    engine.dispose()


def test_a_new_connection_is_in_utc_and_stays_so_after_a_rollback(paris_engine):
    with paris_engine.connect() as connection:
        assert connection.scalar(text("SHOW TimeZone")) == "UTC"
        connection.rollback()
        assert connection.scalar(text("SHOW TimeZone")) == "UTC"
    with paris_engine.connect() as connection:  # the same connection, back from the pool
        assert connection.scalar(text("SHOW TimeZone")) == "UTC"


def test_timestamps_read_from_a_server_in_another_time_zone_are_utc(app, paris_engine):
    user = make_user("alice")
    with Session(paris_engine) as session:
        created_at = session.scalar(select(User.created_at).where(User.id == user.id))
        row = session.get(User, user.id)
    assert created_at.tzinfo is timezone.utc and row.updated_at.tzinfo is timezone.utc
    assert created_at.isoformat().endswith("+00:00")
    assert created_at == user.created_at


def test_timestamps_from_psycopg2_are_not_converted_one_by_one(app, paris_engine, monkeypatch):
    """The session is in UTC already: UTCDateTime's per-value conversion is skipped
    (a hundred Python calls on a list page)."""
    from best_app.models.base import UTCDateTime

    make_user("alice")
    converted = []
    convert = UTCDateTime.process_result_value
    monkeypatch.setattr(UTCDateTime, "process_result_value",
                        lambda self, value, dialect: converted.append(value) or convert(self, value, dialect))
    with Session(paris_engine) as session:  # a new engine: its result processors are made now
        stamps = session.scalars(select(User.created_at)).all()
    assert stamps and all(stamp.tzinfo is timezone.utc for stamp in stamps)
    assert converted == []
