"""Bulk actions on the admin lists: select, confirm (with before/after), apply once, report."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from best_app.extensions import db
from best_app.models import Car, Change, Task, User
from best_app.resources.bulk import MAX_ROWS
from tests.api.conftest import bulk_tasks
from tests.conftest import login, make_car, make_task, make_user
from tests.helpers import csrf_token, deleted_before_update


def list_page(client, url: str):
    page = client.get(url)
    assert page.status_code == 200
    return page


def row_values(page) -> dict[int, str]:
    """id -> the "id:version" value of each row checkbox on a list page."""
    values = re.findall(rb'name="row" value="(\d+):(\d+)"', page.data)
    return {int(i): f"{i.decode()}:{v.decode()}" for i, v in values}


def choose(client, page, resource: str, action: str, rows=(), back: str | None = None, **extra):
    """Post the list's bulk toolbar: the confirmation page."""
    data = {"csrf_token": csrf_token(page), "action": action, "row": list(rows),
            "back": back or f"/admin/{resource}?", **extra}
    return client.post(f"/admin/{resource}/bulk", data=data)


def confirm(client, preview, resource: str):
    token = re.search(rb'name="selection" value="([^"]+)"', preview.data)
    assert token, preview.get_data(as_text=True)
    back = re.search(rb'name="back" value="([^"]*)"', preview.data).group(1).decode().replace("&amp;", "&")
    return client.post(f"/admin/{resource}/bulk", data={"csrf_token": csrf_token(preview), "back": back,
                                                        "selection": token.group(1).decode()})


def test_mark_done_goes_through_a_confirmation_then_reports(logged_in_client):
    client = logged_in_client
    tasks = [make_task(f"Task {i}") for i in range(3)]
    page = list_page(client, "/admin/tasks?sort=title&q=Task")
    assert b'id="bulk-select-page"' in page.data and b"Select all 3 matching these filters" in page.data
    values = row_values(page)
    preview = choose(client, page, "tasks", "mark_done", [values[tasks[0].id], values[tasks[1].id]],
                     back="/admin/tasks?sort=title&q=Task")
    assert preview.status_code == 200
    text_ = preview.get_data(as_text=True)
    assert "2 tasks will change" in text_ and "Open" in text_ and "<strong>Done</strong>" in text_
    db.session.expire_all()
    assert not any(db.session.get(Task, t.id).done for t in tasks)  # the preview writes nothing
    result = confirm(client, preview, "tasks")
    assert result.status_code == 200
    assert "2 tasks changed" in result.get_data(as_text=True)
    assert 'href="/admin/tasks?sort=title&amp;q=Task"' in result.get_data(as_text=True)  # back to the same list
    db.session.expire_all()
    assert [db.session.get(Task, t.id).done for t in tasks] == [True, True, False]
    logged = db.session.scalars(select(Change).where(Change.resource == "tasks", Change.action == "update")).all()
    assert sorted(c.row_id for c in logged) == [tasks[0].id, tasks[1].id]
    assert all(c.source == "admin" and "admin" in c.actor for c in logged)
    # The list (its cached count and page) shows the change at once.
    assert b"<strong>1</strong> of 3 tasks" in client.get("/admin/tasks?done=false").data


def test_rows_changed_by_someone_else_are_left_alone_and_reported(logged_in_client):
    client = logged_in_client
    first, second = make_task("First"), make_task("Second")
    page = list_page(client, "/admin/tasks")
    values = row_values(page)
    preview = choose(client, page, "tasks", "mark_done", [values[first.id], values[second.id]])
    second.title = "Second, renamed meanwhile"
    db.session.commit()
    result = confirm(client, preview, "tasks")
    body = result.get_data(as_text=True)
    assert "1 task changed; 1 left alone" in body and "Changed by someone else" in body
    db.session.expire_all()
    kept = db.session.get(Task, second.id)
    assert kept.done is False and kept.title == "Second, renamed meanwhile" and kept.version == 2
    # Changed between the list and the confirmation page: already shown as left alone there.
    page = list_page(client, "/admin/tasks")
    stale = row_values(page)[second.id]
    kept.title = "Renamed again"
    db.session.commit()
    preview = choose(client, page, "tasks", "mark_done", [stale])
    assert "left alone" in preview.get_data(as_text=True) and b"disabled>Confirm" in preview.data


def test_a_deleted_row_is_reported_not_found(logged_in_client):
    client = logged_in_client
    gone, kept = make_task("Gone"), make_task("Kept")
    page = list_page(client, "/admin/tasks")
    values = row_values(page)
    preview = choose(client, page, "tasks", "delete", [values[gone.id], values[kept.id]])
    db.session.delete(db.session.get(Task, gone.id))
    db.session.commit()
    body = confirm(client, preview, "tasks").get_data(as_text=True)
    assert "1 task deleted; 1 left alone" in body and f"No task with id {gone.id}" in body


def test_all_matching_the_filters_and_back_to_the_same_list(logged_in_client):
    client = logged_in_client
    bob = make_user("bob")
    bobs = [make_task(f"Bob {i}", assignee=bob) for i in range(3)]
    other = make_task("Someone else's")
    back = f"/admin/tasks?assignee_id={bob.id}&sort=-title&cursor=junk-is-dropped"
    page = list_page(client, f"/admin/tasks?assignee_id={bob.id}&sort=-title")
    preview = choose(client, page, "tasks", "unassign", scope="matching", back=back)
    assert "3 tasks will change" in preview.get_data(as_text=True)
    result = confirm(client, preview, "tasks")
    assert "3 tasks changed" in result.get_data(as_text=True)
    db.session.expire_all()
    assert all(db.session.get(Task, t.id).assignee_id is None for t in bobs)
    assert db.session.get(Task, other.id).version == 1


def test_all_matching_is_bounded(logged_in_client):
    client = logged_in_client
    bulk_tasks([None], MAX_ROWS + 1)
    page = list_page(client, "/admin/tasks")
    assert b"Too many to select at once" in page.data
    assert re.search(rb'id="bulk-all-matching"[^>]*disabled', page.data)
    response = choose(client, page, "tasks", "mark_done", scope="matching", back="/admin/tasks?q=Task")
    assert response.status_code == 400 and b"narrow the filters" in response.data
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.version > 1)) == 0
    # At the limit: all of them, through the confirmation (whose token carries every row's version).
    db.session.delete(db.session.get(Task, db.session.scalar(select(func.max(Task.id)))))
    db.session.commit()
    page = list_page(client, "/admin/tasks")
    assert not re.search(rb'id="bulk-all-matching"[^>]*disabled', page.data)
    preview = choose(client, page, "tasks", "delete", scope="matching", back="/admin/tasks?q=Task")
    assert "10,000 tasks will be deleted" in preview.get_data(as_text=True)
    assert "and 9,900 more rows" in preview.get_data(as_text=True)
    assert len(preview.data) < 200_000
    assert "10,000 tasks deleted" in confirm(client, preview, "tasks").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0


def test_transfer_asks_again_for_an_unknown_owner(logged_in_client):
    client = logged_in_client
    alice, bob = make_user("alice"), make_user("bob")
    cars = [make_car(alice, f"Car {i}") for i in range(2)]
    page = list_page(client, "/admin/cars")
    values = [row_values(page)[c.id] for c in cars]
    wrong = choose(client, page, "cars", "transfer", values, arg_owner_id="nobody-by-that-name")
    assert wrong.status_code == 400 and b"No user with id or username" in wrong.data
    assert b'name="arg_owner_id"' in wrong.data and wrong.data.count(b'name="row"') == 2
    preview = choose(client, wrong, "cars", "transfer", values, arg_owner_id="bob")
    assert "Transfer to bob" in preview.get_data(as_text=True)
    confirm(client, preview, "cars")
    db.session.expire_all()
    assert {c.owner_id for c in db.session.scalars(select(Car))} == {bob.id}
    assert db.session.get(User, bob.id).car_count == 2


def test_deleting_users_previews_dependents_and_refuses_yourself(logged_in_client, admin_user):
    client = logged_in_client
    owner = make_user("owner")
    make_car(owner), make_car(owner)
    task = make_task("Owner's", assignee=owner)
    page = list_page(client, "/admin/users")
    values = row_values(page)
    preview = choose(client, page, "users", "delete", [values[owner.id], values[admin_user.id]])
    body = preview.get_data(as_text=True)
    assert "2 cars deleted with it" in body and "1 tasks unassigned" in body
    assert "You cannot delete your own account" in body
    result = confirm(client, preview, "users").get_data(as_text=True)
    assert "1 user deleted; 1 left alone" in result
    db.session.expire_all()
    assert db.session.get(User, owner.id) is None and db.session.get(User, admin_user.id) is not None
    assert db.session.scalar(select(func.count()).select_from(Car)) == 0
    assert db.session.get(Task, task.id).assignee_id is None


def test_a_car_added_after_the_preview_is_not_deleted_unseen(logged_in_client):
    client = logged_in_client
    owner = make_user("owner")
    make_car(owner)
    page = list_page(client, "/admin/users")
    preview = choose(client, page, "users", "delete", [row_values(page)[owner.id]])
    make_car(owner, "Added meanwhile")
    body = confirm(client, preview, "users").get_data(as_text=True)
    assert "0 users deleted; 1 left alone" in body and "changed since the preview" in body
    assert db.session.scalar(select(func.count()).select_from(Car)) == 2


def test_an_error_while_writing_writes_nothing(logged_in_client):
    client = logged_in_client
    alice, doomed = make_user("alice"), make_user("doomed")
    cars = [make_car(alice, f"Car {i}") for i in range(3)]
    page = list_page(client, "/admin/cars")
    preview = choose(client, page, "cars", "transfer", list(row_values(page).values()), arg_owner_id="doomed")
    doomed_id = doomed.id

    with deleted_before_update("cars", doomed_id):
        result = confirm(client, preview, "cars")
    assert result.status_code == 409 and b"nothing was changed" in result.data
    db.session.expire_all()
    assert {c.owner_id for c in db.session.scalars(select(Car))} == {alice.id}
    assert db.session.get(User, doomed_id) is not None
    assert len(cars) == 3


def test_csrf_is_required(logged_in_client):
    task = make_task()
    page = list_page(logged_in_client, "/admin/tasks")
    response = logged_in_client.post("/admin/tasks/bulk", data={"action": "mark_done",
                                                                "row": row_values(page)[task.id]})
    assert response.status_code == 400
    preview = choose(logged_in_client, page, "tasks", "mark_done", [row_values(page)[task.id]])
    token = re.search(rb'name="selection" value="([^"]+)"', preview.data).group(1).decode()
    assert logged_in_client.post("/admin/tasks/bulk", data={"selection": token}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Task, task.id).done is False


def test_a_forged_selection_is_refused(logged_in_client):
    task = make_task()
    page = list_page(logged_in_client, "/admin/tasks")
    response = logged_in_client.post("/admin/tasks/bulk", data={"csrf_token": csrf_token(page),
                                                                "selection": "e30.forged"})
    assert response.status_code == 400
    assert db.session.get(Task, task.id).done is False


def test_non_admins_are_refused(app, client):
    task = make_task()
    make_user("bob", password="bobs password")
    login(client, "bob", "bobs password")  # refused: not an admin
    token = csrf_token(client.get("/admin/login"))
    response = client.post("/admin/tasks/bulk", data={"csrf_token": token, "action": "mark_done",
                                                      "row": f"{task.id}:1"})
    assert response.status_code == 302 and response.location.startswith("/admin/login")
    db.session.expire_all()
    assert db.session.get(Task, task.id).done is False


def test_back_is_only_ever_this_resources_list(logged_in_client):
    task = make_task()
    page = list_page(logged_in_client, "/admin/tasks")
    for hostile in ("//evil.example/admin/tasks", "https://evil.example/", "/admin/users?role=teacher"):
        preview = choose(logged_in_client, page, "tasks", "mark_done", [row_values(page)[task.id]], back=hostile)
        assert b'name="back" value="/admin/tasks"' in preview.data, hostile
