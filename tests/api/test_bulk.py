"""POST /api/v1/<resource>/bulk: one action over many rows, in one transaction."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from best_app.extensions import db
from best_app.models import Car, Change, Task, User
from best_app.resources.bulk import MAX_ROWS
from tests.api.conftest import assert_problem, bulk_tasks
from tests.conftest import make_car, make_task, make_user
from tests.helpers import deleted_before_update


def bulk(client, headers, resource: str, **body):
    return client.post(f"/api/v1/{resource}/bulk", json=body, headers=headers)


def test_mark_done_changes_each_row_through_the_orm(client, auth_headers):
    tasks = [make_task(f"Task {i}") for i in range(3)]
    already = make_task("Finished", done=True)
    response = bulk(client, auth_headers, "tasks", action="mark_done", ids=[t.id for t in tasks] + [already.id])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["totals"] == {"changed": 3, "unchanged": 1, "conflict": 0, "not_found": 0, "refused": 0}
    by_id = {row["id"]: row for row in body["results"]}
    assert all(by_id[t.id]["outcome"] == "changed" and by_id[t.id]["version"] == 2 for t in tasks)
    assert by_id[already.id] == {"id": already.id, "outcome": "unchanged", "version": 1, "reason": "Already so."}
    db.session.expire_all()
    assert all(db.session.get(Task, t.id).done for t in tasks)
    # The change log has one entry per changed row, none for the unchanged one.
    logged = db.session.scalars(select(Change).where(Change.resource == "tasks", Change.action == "update")).all()
    assert sorted(c.row_id for c in logged) == sorted(t.id for t in tasks)
    assert all(c.version == 2 and c.source == "api" and c.fields == {"done": [False, True]} for c in logged)
    assert all(db.session.get(Task, t.id).updated_at > t.created_at for t in tasks)


def test_the_cache_serves_fresh_data_after_a_bulk_action(client, auth_headers):
    user = make_user("bob")
    task = make_task("Paint", assignee=None)
    url = f"/api/v1/tasks/{task.id}"
    client.get(url, headers=auth_headers)
    assert client.get(url, headers=auth_headers).headers["X-Cache"] == "HIT"
    listed = client.get("/api/v1/tasks?assignee_id=none", headers=auth_headers).get_json()["items"]
    assert [item["id"] for item in listed] == [task.id]
    assert bulk(client, auth_headers, "tasks", action="assign", ids=[task.id], assignee_id=user.id).status_code == 200
    fresh = client.get(url, headers=auth_headers)
    assert fresh.headers["X-Cache"] == "MISS" and fresh.get_json()["assignee_id"] == user.id
    assert client.get("/api/v1/tasks?assignee_id=none", headers=auth_headers).get_json()["items"] == []
    assert client.get(f"/api/v1/users/{user.id}/tasks", headers=auth_headers).get_json()["items"][0]["id"] == task.id


def test_rows_changed_since_they_were_read_are_conflicts_left_alone(client, auth_headers):
    first, second = make_task("One"), make_task("Two")
    second.title = "Two, renamed by someone else"
    db.session.commit()  # now version 2
    response = bulk(client, auth_headers, "tasks", action="mark_done",
                    items=[{"id": first.id, "version": 1}, {"id": second.id, "version": 1}, {"id": 999, "version": 1}])
    assert response.status_code == 200
    results = {row["id"]: row for row in response.get_json()["results"]}
    assert results[first.id]["outcome"] == "changed"
    assert results[second.id]["outcome"] == "conflict" and results[second.id]["version"] == 2
    assert results[999]["outcome"] == "not_found"
    db.session.expire_all()
    assert db.session.get(Task, second.id).done is False and db.session.get(Task, second.id).version == 2


def test_transfer_cars_and_a_bad_owner_names_the_field(client, auth_headers):
    alice, bob = make_user("alice"), make_user("bob")
    cars = [make_car(alice, f"Car {i}") for i in range(2)]
    bad = bulk(client, auth_headers, "cars", action="transfer", ids=[c.id for c in cars], owner_id=424242)
    assert assert_problem(bad, 422, "owner_id")["errors"]["owner_id"]
    wrong_type = bulk(client, auth_headers, "cars", action="transfer", ids=[cars[0].id], owner_id="bob")
    assert "owner_id" in assert_problem(wrong_type, 422)["errors"]
    missing = bulk(client, auth_headers, "cars", action="transfer", ids=[cars[0].id])
    assert "owner_id" in assert_problem(missing, 422)["errors"]
    db.session.expire_all()
    assert {c.owner_id for c in db.session.scalars(select(Car))} == {alice.id}
    good = bulk(client, auth_headers, "cars", action="transfer", ids=[c.id for c in cars], owner_id=bob.id)
    assert good.get_json()["totals"]["changed"] == 2
    db.session.expire_all()
    assert {c.owner_id for c in db.session.scalars(select(Car))} == {bob.id}
    assert db.session.get(User, bob.id).car_count == 2 and db.session.get(User, alice.id).car_count == 0


@pytest.mark.parametrize("body, field", [
    ({"action": "explode", "ids": [1]}, "action"),
    ({"action": "mark_done"}, "ids"),
    ({"action": "mark_done", "ids": ["1"]}, "ids"),
    ({"action": "mark_done", "items": [{"id": 1}]}, "items"),
    ({"action": "mark_done", "ids": [1], "owner_id": 1}, "owner_id"),
    ({"action": "mark_done", "filter": {"done": "maybe"}}, "filter.done"),
    ({"action": "mark_done", "filter": {"colour": "red"}}, "filter.colour"),
    ({"action": "mark_done", "filter": {"sort": "title"}}, "filter.sort"),
])
def test_bad_bodies_name_the_field_and_write_nothing(client, auth_headers, body, field):
    task = make_task("Untouched")
    body = {**body, "ids": [task.id]} if body.get("ids") == [1] else body
    assert field in assert_problem(client.post("/api/v1/tasks/bulk", json=body, headers=auth_headers), 422)["errors"]
    db.session.expire_all()
    assert db.session.get(Task, task.id).version == 1


def test_a_filter_selects_the_rows_and_narrows_ids(client, auth_headers):
    bob = make_user("bob")
    mine = [make_task(f"Bob's {i}", assignee=bob) for i in range(2)]
    other = make_task("Nobody's")
    response = bulk(client, auth_headers, "tasks", action="mark_done", filter={"assignee_id": bob.id})
    assert sorted(row["id"] for row in response.get_json()["results"]) == sorted(t.id for t in mine)
    narrowed = bulk(client, auth_headers, "tasks", action="mark_open", ids=[mine[0].id, other.id],
                    filter={"assignee_id": bob.id, "q": "Bob"})
    assert [row["id"] for row in narrowed.get_json()["results"]] == [mine[0].id]
    db.session.expire_all()
    assert db.session.get(Task, other.id).done is False


def test_a_filter_past_the_limit_is_refused_naming_it(client, auth_headers):
    bulk_tasks([None], MAX_ROWS + 1)
    done_before = db.session.scalar(select(db.func.count()).select_from(Task).where(Task.done.is_(True)))
    response = bulk(client, auth_headers, "tasks", action="mark_done", filter={"q": "Task"})
    assert "filter" in assert_problem(response, 422, "10,000")["errors"]
    assert db.session.scalar(select(db.func.count()).select_from(Task).where(Task.done.is_(True))) == done_before
    # At the limit it is done, in one request.
    last = db.session.scalar(select(db.func.max(Task.id)))
    db.session.delete(db.session.get(Task, last))
    db.session.commit()
    response = bulk(client, auth_headers, "tasks", action="mark_done", filter={"q": "Task"})
    assert response.status_code == 200 and sum(response.get_json()["totals"].values()) == MAX_ROWS
    too_many_ids = bulk(client, auth_headers, "tasks", action="mark_done", ids=list(range(1, MAX_ROWS + 2)))
    assert too_many_ids.status_code in (413, 422)  # the ids alone are about the body's size limit


def test_deleting_users_refuses_those_with_cars_unless_cascade(client, auth_headers):
    keeper, plain = make_user("keeper"), make_user("plain")
    make_car(keeper)
    task = make_task("Keeper's", assignee=keeper)
    response = bulk(client, auth_headers, "users", action="delete", ids=[keeper.id, plain.id])
    results = {row["id"]: row for row in response.get_json()["results"]}
    assert results[plain.id]["outcome"] == "changed"
    assert results[keeper.id]["outcome"] == "refused" and "1 cars" in results[keeper.id]["reason"]
    assert db.session.get(User, keeper.id) is not None
    cascaded = bulk(client, auth_headers, "users", action="delete", ids=[keeper.id], cascade=True)
    assert cascaded.get_json()["totals"]["changed"] == 1
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(Car)) == 0
    assert db.session.get(Task, task.id).assignee_id is None


def test_cascade_is_refused_where_nothing_cascades(client, auth_headers):
    task = make_task()
    response = bulk(client, auth_headers, "tasks", action="delete", ids=[task.id], cascade=True)
    assert "cascade" in assert_problem(response, 422)["errors"]


def test_an_error_while_writing_writes_nothing(app, client, auth_headers):
    """All or nothing: the new owner deleted while the cars are being moved (a
    concurrent delete, forced here) fails the whole request, and no car moves."""
    alice, doomed = make_user("alice"), make_user("doomed")
    cars = [make_car(alice, f"Car {i}") for i in range(3)]
    doomed_id = doomed.id

    with deleted_before_update("cars", doomed_id):
        response = bulk(client, auth_headers, "cars", action="transfer", ids=[c.id for c in cars], owner_id=doomed_id)
    assert_problem(response, 409)
    db.session.expire_all()
    assert {c.owner_id for c in db.session.scalars(select(Car))} == {alice.id}
    assert db.session.get(User, doomed_id) is not None  # rolled back with the rest
    assert db.session.scalar(select(db.func.count()).select_from(Change).where(Change.resource == "cars",
                                                                             Change.action == "update")) == 0


def test_a_read_only_token_may_not_bulk(client, reader_headers):
    task = make_task()
    assert_problem(bulk(client, reader_headers, "tasks", action="mark_done", ids=[task.id]), 403)
    assert db.session.get(Task, task.id).done is False


def test_the_document_describes_each_bulk_route(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/tasks/bulk"]["post"]
    assert operation["operationId"] == "bulk_tasks"
    variants = document["components"]["schemas"]["TaskBulk"]["discriminator"]["mapping"]
    assert set(variants) == {"mark_done", "mark_open", "assign", "unassign", "delete"}
    assign = document["components"]["schemas"]["TaskBulkAssign"]
    assert "assignee_id" in assign["required"]
    assert assign["properties"]["assignee_id"]["type"] == "integer"  # never null: that is unassign
    assert "cascade" in document["components"]["schemas"]["UserBulkDelete"]["properties"]


def test_a_row_changed_under_the_update_fails_the_whole_action(client, auth_headers):
    """The UPDATE requires each row's version as judged: a row moved on in between
    (forced here, in the same transaction) fails the action, and nothing is written."""
    tasks = [make_task(f"Task {i}") for i in range(3)]
    moved = tasks[1].id

    def bump_first(state):
        table = getattr(state.statement, "table", None)
        if state.is_update and table is not None and table.name == "tasks":
            state.session.execute(text("UPDATE tasks SET version = version + 1 WHERE id = :id"), {"id": moved})

    event.listen(db.session, "do_orm_execute", bump_first)
    try:
        response = bulk(client, auth_headers, "tasks", action="mark_done", ids=[t.id for t in tasks])
    finally:
        event.remove(db.session, "do_orm_execute", bump_first)
    assert_problem(response, 409, "nothing was changed")
    db.session.expire_all()
    assert [db.session.get(Task, t.id).version for t in tasks] == [1, 1, 1]
    assert not any(db.session.get(Task, t.id).done for t in tasks)
