"""Constraints the database itself enforces, on SQLite and PostgreSQL."""
from datetime import timezone

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from best_app.extensions import db
from best_app.models import Car, Task, User
from tests.conftest import make_car, make_task, make_user


def test_email_is_unique_whatever_its_case(app):
    make_user("alice", email="Alice@Example.com")
    db.session.add(User(username="alice2", email="alice@example.COM"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_username_is_unique(app):
    make_user("alice")
    db.session.add(User(username="alice", email="other@example.com"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_role_is_checked_by_the_database(app):
    db.session.add(User(username="mallory", email="m@example.com", role="pirate"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_defaults(app):
    user = make_user("bob")
    assert user.role == "employee"
    assert user.is_admin is False
    assert user.version == 1
    assert user.created_at.tzinfo is not None
    assert user.created_at.utcoffset() == timezone.utc.utcoffset(None)


def test_timestamps_are_taken_per_row(app):
    first = make_user("first")
    second = make_user("second")
    assert second.created_at >= first.created_at
    old_updated = first.updated_at
    first.name = "Changed"
    db.session.commit()
    assert first.updated_at >= old_updated
    assert first.version == 2


def test_deleting_a_user_who_owns_cars_is_restricted(app):
    owner = make_user("owner")
    make_car(owner)
    with pytest.raises(IntegrityError):
        db.session.execute(delete(User).where(User.id == owner.id))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Car)) == 1


def test_deleting_an_assignee_unassigns_their_tasks(app):
    worker = make_user("worker")
    task = make_task(assignee=worker)
    task_id = task.id
    db.session.execute(delete(User).where(User.id == worker.id))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Task, task_id).assignee_id is None


def test_stale_update_is_refused(app):
    user = make_user("carol")
    # Another writer bumps the version behind this session's back.
    db.session.execute(db.update(User).where(User.id == user.id).values(version=User.version + 1),
                       execution_options={"synchronize_session": False})
    user.name = "Lost update"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()


def test_password_is_hashed(app):
    user = make_user("dave", password="s3cret-pass")
    assert user.password_hash and "s3cret-pass" not in user.password_hash
    assert user.check_password("s3cret-pass")
    assert not user.check_password("wrong")
    assert not make_user("nopass").check_password("")


def test_taken_fields_names_each_clash(app):
    make_user("erin", email="erin@example.com")
    assert User.taken_fields("erin", "ERIN@example.com") == {
        "username": "This username is already taken.",
        "email": "A user with this email already exists.",
    }
    erin = db.session.scalar(select(User).where(User.username == "erin"))
    assert User.taken_fields("erin", "erin@example.com", exclude_id=erin.id) == {}
