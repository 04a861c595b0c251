"""The change log: every write path records its changes, in the same transaction."""
import json
from sqlalchemy import select, update

from best_app.extensions import db
from best_app.models import Car, Change, Task
from tests.admin.conftest import post_form
from tests.conftest import make_car, make_task, make_user


def entries(**where) -> list[Change]:
    db.session.expire_all()
    return db.session.scalars(select(Change).filter_by(**where).order_by(Change.id)).all()


def test_api_writes_are_recorded_with_actor_source_request_id_and_diffs(client, auth_headers, admin_user):
    created = client.post("/api/v1/tasks", json={"title": "Plan", "assignee_id": admin_user.id}, headers=auth_headers)
    task_id = created.get_json()["id"]
    patched = client.patch(f"/api/v1/tasks/{task_id}", json={"title": "Plan trip", "done": True}, headers=auth_headers)
    client.put(f"/api/v1/tasks/{task_id}", json={"title": "Plan trip"}, headers=auth_headers)
    client.delete(f"/api/v1/tasks/{task_id}", headers=auth_headers)
    log = entries(resource="tasks", row_id=task_id)
    assert [(e.action, e.version, e.source) for e in log] == [
        ("create", 1, "api"), ("update", 2, "api"), ("update", 3, "api"), ("delete", None, "api")]
    assert log[1].fields == {"title": ["Plan", "Plan trip"], "done": [False, True]}
    assert log[2].fields == {"done": [True, False], "assignee_id": [admin_user.id, None]}
    assert log[3].fields["title"] == ["Plan trip", None]
    assert log[0].actor_user_id == admin_user.id and log[0].actor.startswith("token ")
    assert log[1].request_id == patched.headers["X-Request-ID"] != log[0].request_id


def test_a_refused_or_failed_write_records_nothing(client, auth_headers):
    task = make_task("t")
    before = len(entries())
    client.patch(f"/api/v1/tasks/{task.id}", json={"title": ""}, headers=auth_headers)  # 422
    client.patch(f"/api/v1/tasks/{task.id}", json={"title": "x"}, headers={**auth_headers, "If-Match": '"9"'})  # 412
    make_user("taken")
    client.post("/api/v1/users", json={"username": "TAKEN", "email": "t2@example.com"}, headers=auth_headers)  # 409
    assert len(entries()) == before + 1  # only make_user's own


def test_admin_pages_record_their_admin_and_the_cascade_of_a_delete(logged_in_client, admin_user):
    bob = make_user("bob")
    car_id, task_id = make_car(bob, "Fiat 500").id, make_task("Wash car", bob).id
    post_form(logged_in_client, f"/admin/users/{bob.id}", {"username": "bob", "email": "bob@example.com",
                                                           "name": "Bob B", "role": "teacher", "version": "1"})
    page = logged_in_client.get(f"/admin/users/{bob.id}/delete")
    from tests.helpers import csrf_token
    import re
    previewed = re.search(r'name="previewed" value="([^"]*)"', page.get_data(as_text=True)).group(1)
    logged_in_client.post(f"/admin/users/{bob.id}/delete", data={"version": "2", "previewed": previewed,
                                                                 "csrf_token": csrf_token(page)})
    edit, deleted = entries(resource="users", row_id=bob.id)[1:]
    assert edit.source == "admin" and edit.actor == f"admin admin (#{admin_user.id})"
    assert edit.fields == {"name": ["Bob", "Bob B"], "role": ["employee", "teacher"]}
    assert deleted.action == "delete" and deleted.source == "admin"
    [car_gone] = entries(resource="cars", row_id=car_id, action="delete")
    [unassigned] = entries(resource="tasks", row_id=task_id, action="update")
    assert car_gone.source == unassigned.source == "cascade"
    assert unassigned.fields == {"assignee_id": [bob.id, None]} and unassigned.version == 2
    assert car_gone.actor_user_id == admin_user.id


def test_passwords_are_recorded_as_changed_never_their_hash(client, auth_headers, runner):
    user = client.post("/api/v1/users", json={"username": "pat", "email": "pat@example.com",
                                              "password": "first password"}, headers=auth_headers).get_json()
    client.patch(f"/api/v1/users/{user['id']}", json={"password": "second password"}, headers=auth_headers)
    log = entries(resource="users", row_id=user["id"])
    assert log[1].fields == {"password": "changed"}
    stored = json.dumps([e.fields for e in entries()])
    assert "pbkdf2" not in stored and "scrypt" not in stored and "password" in stored


def test_cli_and_bulk_writes_are_recorded(runner):
    result = runner.invoke(args=["users", "create-admin", "--username", "root2", "--email", "r@example.com",
                                 "--password", "a long password"])
    assert result.exit_code == 0, result.output
    [created] = entries(resource="users", action="create")
    assert created.source == "cli" and created.actor.startswith("cli ")
    tasks = [make_task(f"t{n}") for n in range(3)]
    db.session.execute(update(Task).where(Task.title != "t1").values(done=True, version=Task.version + 1))
    db.session.commit()
    bulk = entries(resource="tasks", action="update")
    assert sorted(e.row_id for e in bulk) == [tasks[0].id, tasks[2].id]
    assert all(e.source == "bulk" and e.fields == {"done": [False, True]} and e.version == 2 for e in bulk)


def test_the_admin_shows_a_rows_history_and_every_change(logged_in_client, admin_user):
    bob = make_user("bob")
    post_form(logged_in_client, f"/admin/users/{bob.id}", {"username": "bob", "email": "bob@example.com",
                                                           "name": "Robert <b>", "role": "employee", "version": "1"})
    page = logged_in_client.get(f"/admin/users/{bob.id}")
    assert f'href="/admin/users/{bob.id}/history"' in page.get_data(as_text=True)
    html = logged_in_client.get(f"/admin/users/{bob.id}/history").get_data(as_text=True)
    assert "History of user bob" in html and "<del>Bob</del>" in html and "<ins>Robert &lt;b&gt;</ins>" in html
    assert f"by admin admin (#{admin_user.id})" in html
    everything = logged_in_client.get("/admin/changes?resource=users&source=admin").get_data(as_text=True)
    assert f'href="/admin/users/{bob.id}/history"' in everything
    assert "No changes match" in logged_in_client.get("/admin/changes?source=import").get_data(as_text=True)
    bad = logged_in_client.get("/admin/changes?source=telepathy")
    assert bad.status_code == 400 and "Query parameter &#39;source&#39;" in bad.get_data(as_text=True)
    # A deleted row keeps its history, reachable from the changes page.
    bob_id = bob.id
    db.session.delete(bob)
    db.session.commit()
    gone = logged_in_client.get(f"/admin/users/{bob_id}/history").get_data(as_text=True)
    assert f"user #{bob_id} (deleted)" in gone and "delete" in gone
    assert logged_in_client.get("/admin/users/99999/history").status_code == 404


def test_prune_keeps_the_recent_log_and_remembers_how_far_it_went(runner, app):
    from datetime import timedelta

    from best_app.models.base import utcnow
    from best_app.models.change import ChangeRetention

    old, recent = make_task("old"), make_task("recent")
    db.session.execute(update(Change).where(Change.row_id == old.id).values(changed_at=utcnow() - timedelta(days=500)))
    db.session.commit()
    result = runner.invoke(args=["history", "prune", "--older-than", "400d"])
    assert result.exit_code == 0 and "Removed 1 change log entry" in result.output
    assert [e.row_id for e in entries()] == [recent.id]
    mark = db.session.get(ChangeRetention, 1)
    assert mark.pruned_id < entries()[0].id
    assert runner.invoke(args=["history", "prune", "--older-than", "soon"]).exit_code == 1
    assert "HISTORY_RETENTION_DAYS" in runner.invoke(args=["history", "prune"]).output


def test_restoring_a_version_is_an_edit_with_a_preview_and_the_version_check(logged_in_client):
    task = make_task("first")
    for title in ("second", "third"):
        post_form(logged_in_client, f"/admin/tasks/{task.id}", {"title": title, "version": str(task.version)})
        db.session.refresh(task)
    created = entries(resource="tasks", row_id=task.id)[0]
    preview = logged_in_client.get(f"/admin/tasks/{task.id}?restore={created.id}").get_data(as_text=True)
    assert "Restoring task third as it was" in preview and "<del>third</del>" in preview
    assert "<ins>first</ins>" in preview and 'value="first"' in preview
    saved = post_form(logged_in_client, f"/admin/tasks/{task.id}",
                      {"title": "first", "version": "3", "restore": str(created.id)},
                      form_url=f"/admin/tasks/{task.id}?restore={created.id}")
    assert saved.status_code == 302
    db.session.refresh(task)
    assert (task.title, task.version) == ("first", 4)
    last = entries(resource="tasks", row_id=task.id)[-1]
    assert last.source == "restore" and last.fields == {"title": ["third", "first"]}
    # A restore from a stale preview overwrites nothing, like any edit.
    stale = post_form(logged_in_client, f"/admin/tasks/{task.id}",
                      {"title": "second", "version": "3", "restore": str(created.id)},
                      form_url=f"/admin/tasks/{task.id}?restore={created.id}")
    assert stale.status_code == 409
    db.session.refresh(task)
    assert task.title == "first"
    assert logged_in_client.get(f"/admin/tasks/{task.id}?restore=999999").status_code == 404


def test_a_restore_naming_ids_no_row_can_have_is_a_404(logged_in_client):
    # Past the database's integer range: a lookup would fail in the driver (a 500), not find nothing.
    car = make_car(make_user("owner"), "Saab 900")
    huge = "9" * 20
    for url in (f"/admin/cars/{car.id}?restore={huge}", f"/admin/cars/new?restore={huge}&restore_id={car.id}",
                f"/admin/cars/new?restore=1&restore_id={huge}", "/admin/cars/new?restore=1&restore_id=-1"):
        assert logged_in_client.get(url).status_code == 404, url
def test_a_deleted_row_is_re_created_with_its_id(logged_in_client):
    owner = make_user("owner")
    car = make_car(owner, "Saab 900")
    car_id = car.id
    db.session.delete(car)
    db.session.commit()
    [gone] = entries(resource="cars", row_id=car_id, action="delete")
    history = logged_in_client.get(f"/admin/cars/{car_id}/history").get_data(as_text=True)
    assert "Re-create as before the deletion" in history
    url = f"/admin/cars/new?restore={gone.id}&restore_id={car_id}"
    assert "<ins>Saab 900</ins>" in logged_in_client.get(url).get_data(as_text=True)
    response = post_form(logged_in_client, "/admin/cars/new", {
        "model": "Saab 900", "owner_id": str(owner.id), "restore": str(gone.id), "restore_id": str(car_id)},
        form_url=url)
    assert response.status_code == 302
    back = db.session.get(Car, car_id)
    assert back.model == "Saab 900" and back.owner_id == owner.id
    assert entries(resource="cars", row_id=car_id)[-1].source == "restore"
