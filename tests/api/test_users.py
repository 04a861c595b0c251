"""What is special about users: the password, uniqueness and deleting owners."""
from sqlalchemy import func, select

from best_app.extensions import db
from best_app.models import Car, Task, User
from tests.api.conftest import assert_problem
from tests.conftest import make_car, make_task, make_user


def test_the_password_is_write_only(client, auth_headers):
    response = client.post("/api/v1/users", json={"username": "dave", "email": "dave@example.com",
                                                  "password": "s3cret-password"}, headers=auth_headers)
    assert response.status_code == 201
    text = response.get_data(as_text=True)
    assert "password" not in text and "s3cret" not in text
    user = db.session.get(User, response.get_json()["id"])
    assert user.check_password("s3cret-password")
    listed = client.get("/api/v1/users", headers=auth_headers).get_data(as_text=True)
    assert "password" not in listed and "pbkdf2" not in listed


def test_patch_without_password_keeps_it_and_with_one_changes_it(client, auth_headers):
    user = make_user("erin", password="first-password")
    assert client.patch(f"/api/v1/users/{user.id}", json={"name": "E"}, headers=auth_headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("first-password")
    response = client.patch(f"/api/v1/users/{user.id}", json={"password": "second-password"}, headers=auth_headers)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("second-password")
    assert_problem(client.patch(f"/api/v1/users/{user.id}", json={"password": "short"}, headers=auth_headers),
                   422, "password")


def test_duplicate_username_or_email_is_409_naming_the_field(client, auth_headers):
    make_user("frank", email="frank@example.com")
    body = {"username": "frank", "email": "other@example.com"}
    problem = assert_problem(client.post("/api/v1/users", json=body, headers=auth_headers), 409, "username")
    assert set(problem["errors"]) == {"username"}
    body = {"username": "frank2", "email": "FRANK@example.com"}
    problem = assert_problem(client.post("/api/v1/users", json=body, headers=auth_headers), 409, "email")
    assert set(problem["errors"]) == {"email"}
    other = make_user("gina")
    problem = assert_problem(client.patch(f"/api/v1/users/{other.id}", json={"username": "frank"},
                                          headers=auth_headers), 409, "username")
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "frank")) == 1


def test_keeping_ones_own_username_is_not_a_conflict(client, auth_headers):
    user = make_user("hank")
    response = client.put(f"/api/v1/users/{user.id}", json={"username": "hank", "email": "hank@example.com"},
                          headers=auth_headers)
    assert response.status_code == 200, response.get_json()


def test_deleting_an_owner_is_409_with_dependents_unless_cascade(client, auth_headers):
    user = make_user("ivan")
    make_car(user, "A")
    make_car(user, "B")
    task = make_task("Wash", assignee=user)
    problem = assert_problem(client.delete(f"/api/v1/users/{user.id}", headers=auth_headers), 409, "cascade")
    assert problem["dependents"] == {"cars": 2}
    assert db.session.get(User, user.id) is not None
    assert_problem(client.delete(f"/api/v1/users/{user.id}?cascade=maybe", headers=auth_headers), 400, "cascade")
    assert client.delete(f"/api/v1/users/{user.id}?cascade=true", headers=auth_headers).status_code == 204
    db.session.expire_all()
    assert db.session.get(User, user.id) is None
    assert db.session.scalar(select(func.count()).select_from(Car)) == 0
    assert db.session.get(Task, task.id).assignee_id is None
    assert client.get(f"/api/v1/tasks/{task.id}", headers=auth_headers).get_json()["assignee_id"] is None


def test_tasks_unassigned_by_a_delete_get_a_new_etag(client, auth_headers):
    user = make_user("kate")
    task = make_task("Wash", assignee=user)
    etag = client.get(f"/api/v1/tasks/{task.id}", headers=auth_headers).headers["ETag"]
    assert client.delete(f"/api/v1/users/{user.id}", headers=auth_headers).status_code == 204
    again = client.get(f"/api/v1/tasks/{task.id}", headers={**auth_headers, "If-None-Match": etag})
    assert again.status_code == 200
    assert again.get_json()["assignee_id"] is None
    assert again.headers["ETag"] != etag
    stale = client.patch(f"/api/v1/tasks/{task.id}", json={"done": True},
                         headers={**auth_headers, "If-Match": etag})
    assert stale.status_code == 412


def test_deleting_a_user_without_cars_needs_no_cascade(client, auth_headers):
    user = make_user("judy")
    assert client.delete(f"/api/v1/users/{user.id}", headers=auth_headers).status_code == 204


def test_scoped_lists(client, auth_headers):
    kim, lee = make_user("kim"), make_user("lee")
    make_car(kim, "Kim's car")
    make_car(lee, "Lee's car")
    make_task("Kim's task", assignee=kim)
    make_task("Nobody's task")
    cars = client.get(f"/api/v1/users/{kim.id}/cars", headers=auth_headers).get_json()["items"]
    assert [c["model"] for c in cars] == ["Kim's car"]
    tasks = client.get(f"/api/v1/users/{kim.id}/tasks", headers=auth_headers).get_json()["items"]
    assert [t["title"] for t in tasks] == ["Kim's task"]
    assert_problem(client.get("/api/v1/users/999/cars", headers=auth_headers), 404)
    # The scope is fixed: its field is not a parameter here.
    assert_problem(client.get(f"/api/v1/users/{kim.id}/cars?owner_id={lee.id}", headers=auth_headers),
                   400, "owner_id")
    searched = client.get(f"/api/v1/users/{kim.id}/tasks?q=kim&done=false", headers=auth_headers)
    assert [t["title"] for t in searched.get_json()["items"]] == ["Kim's task"]
