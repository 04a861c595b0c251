"""Fixtures for the API tests: tokens, bulk rows and a statement counter."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, insert

from best_app.extensions import db
from best_app.models import ApiToken, Car, Task, User
from tests.conftest import make_user

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status: int, *words: str) -> dict:
    """The response is an RFC 9457 problem with this status whose detail names `words`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_KEYS <= set(body) and body["status"] == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "SELECT" not in text
    for word in words:
        assert word in text, f"{word!r} not in {text}"
    return body


@pytest.fixture
def reader_headers(app) -> dict:
    """A token of a user who is not an admin: it may read only."""
    reader = make_user("reader")
    _token, secret = ApiToken.issue(reader, name="read-only")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def bulk_users(count: int, **values) -> list[int]:
    """Insert `count` users in one statement; returns their ids in order."""
    rows = [{"username": f"user{i:05d}", "email": f"user{i:05d}@example.com", "name": f"Name {i % 7}",
             "role": ("student", "teacher", "employee")[i % 3], "is_admin": i % 5 == 0, **values}
            for i in range(count)]
    db.session.execute(insert(User), rows)
    db.session.commit()
    return sorted(db.session.scalars(db.select(User.id).where(User.username.like("user%"))))


def bulk_cars(owner_ids: list[int], count: int) -> None:
    rows = [{"model": f"Model {i % 9}", "owner_id": owner_ids[i % len(owner_ids)]} for i in range(count)]
    db.session.execute(insert(Car), rows)
    db.session.commit()


def bulk_tasks(assignee_ids: list[int | None], count: int) -> None:
    rows = [{"title": f"Task {i % 11}", "done": i % 2 == 0, "assignee_id": assignee_ids[i % len(assignee_ids)]}
            for i in range(count)]
    db.session.execute(insert(Task), rows)
    db.session.commit()


@contextmanager
def count_statements():
    """Collect every SQL statement the engine runs inside the block."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
