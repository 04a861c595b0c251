"""Task pages: assignee and state filters, marking done, conflicts and delete."""
import re

import pytest
from sqlalchemy import select

from best_app.extensions import db
from best_app.models import Task
from tests.admin.conftest import post_form
from tests.conftest import USING_POSTGRES, make_task, make_user
from tests.helpers import csrf_token


def titles(response) -> list[str]:
    return re.findall(r'href="/admin/tasks/\d+(?:\?[^"]*)?">([^<]+)</a>', response.get_data(as_text=True))


def test_list_filters_by_assignee_state_and_title(logged_in_client):
    bob = make_user("bob")
    make_task("Wash car", bob)
    make_task("Wash dog", bob, done=True)
    make_task("Plan trip")
    assert titles(logged_in_client.get(f"/admin/tasks?assignee_id={bob.id}&sort=title")) == ["Wash car", "Wash dog"]
    assert titles(logged_in_client.get("/admin/tasks?done=true")) == ["Wash dog"]
    assert titles(logged_in_client.get("/admin/tasks?done=false&sort=title")) == ["Plan trip", "Wash car"]
    assert titles(logged_in_client.get("/admin/tasks?q=WASH&done=false")) == ["Wash car"]
    assert titles(logged_in_client.get("/admin/tasks?assignee_id=none")) == ["Plan trip"]
    assert titles(logged_in_client.get("/admin/tasks?q=BOB&sort=title")) == ["Wash car", "Wash dog"]  # by assignee
    assert titles(logged_in_client.get("/admin/tasks?done=&assignee_id=&sort=title")) == [
        "Plan trip", "Wash car", "Wash dog"]  # the filter panel's "any"
    response = logged_in_client.get("/admin/tasks?done=bogus")
    assert response.status_code == 400 and "Query parameter &#39;done&#39;" in response.get_data(as_text=True)


def test_create_task_without_assignee_then_mark_it_done(logged_in_client):
    response = post_form(logged_in_client, "/admin/tasks/new", {"title": "Plan trip", "description": "Two weeks"})
    assert response.status_code == 302
    task = db.session.scalar(select(Task))
    assert (task.title, task.description, task.done, task.assignee_id) == ("Plan trip", "Two weeks", False, None)
    response = post_form(logged_in_client, f"/admin/tasks/{task.id}", {
        "title": "Plan trip", "description": "Two weeks", "done": "y", "assignee_id": "", "version": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert task.done and task.version == 2


def test_assign_by_username_and_unassign(logged_in_client):
    bob = make_user("bob")
    task = make_task("Plan trip")
    post_form(logged_in_client, f"/admin/tasks/{task.id}", {"title": "Plan trip", "assignee_id": "bob", "version": "1"})
    db.session.expire_all()
    assert task.assignee_id == bob.id
    post_form(logged_in_client, f"/admin/tasks/{task.id}", {"title": "Plan trip", "assignee_id": "", "version": "2"})
    db.session.expire_all()
    assert task.assignee_id is None


def test_invalid_task_keeps_values(logged_in_client):
    response = post_form(logged_in_client, "/admin/tasks/new",
                         {"title": "x" * 201, "description": "kept <b>text</b>", "assignee_id": "nobody"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="title-errors"' in html and 'id="assignee_id-errors"' in html
    assert "kept &lt;b&gt;text&lt;/b&gt;" in html
    assert db.session.scalars(select(Task)).all() == []


def test_task_conflict_overwrites_nothing(logged_in_client):
    task = make_task("Original")
    page = logged_in_client.get(f"/admin/tasks/{task.id}")
    task.done = True
    db.session.commit()
    response = logged_in_client.post(f"/admin/tasks/{task.id}", data={
        "title": "Mine", "version": "1", "csrf_token": csrf_token(page)})
    assert response.status_code == 409
    db.session.expire_all()
    assert (task.title, task.done) == ("Original", True)


def test_delete_task(logged_in_client):
    task = make_task("Plan trip")
    response = post_form(logged_in_client, f"/admin/tasks/{task.id}/delete", {"version": "1"})
    assert response.status_code == 302
    assert db.session.scalars(select(Task)).all() == []


@pytest.mark.skipif(not USING_POSTGRES, reason="needs a second connection; in-memory SQLite has one")
def test_saving_a_task_deleted_meanwhile_says_it_is_gone(logged_in_client):
    from sqlalchemy import event, text

    task = make_task("Original")
    page = logged_in_client.get(f"/admin/tasks/{task.id}")

    def concurrent_delete(session, flush_context, instances):
        # Another client deletes the task and commits, after our version check passed.
        with db.engine.begin() as other:
            other.execute(text("DELETE FROM tasks"))

    event.listen(db.session, "before_flush", concurrent_delete)
    try:
        response = logged_in_client.post(f"/admin/tasks/{task.id}", data={
            "title": "Mine", "version": "1", "csrf_token": csrf_token(page)})
    finally:
        event.remove(db.session, "before_flush", concurrent_delete)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
