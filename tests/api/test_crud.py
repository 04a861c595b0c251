"""Create, read, patch, put and delete, for every resource."""
from datetime import datetime

import pytest

from best_app.extensions import db
from best_app.models import Car, Task, User
from tests.api.conftest import assert_problem
from tests.conftest import make_user

MODELS = {"users": User, "cars": Car, "tasks": Task}


def new_body(resource: str, user_id: int) -> dict:
    return {
        "users": {"username": "carol", "email": "carol@example.com", "name": "Carol", "role": "teacher",
                  "is_admin": False, "password": "long enough password"},
        "cars": {"model": "Saab 900", "owner_id": user_id},
        "tasks": {"title": "Rotate tyres", "description": "All four", "done": False, "assignee_id": user_id},
    }[resource]


PATCHES = {"users": {"name": "Carol Smith"}, "cars": {"model": "Saab 9-3"}, "tasks": {"done": True}}


@pytest.fixture
def owner(app):
    return make_user("owner")


@pytest.mark.parametrize("resource", MODELS)
def test_create_then_get(client, auth_headers, owner, resource):
    body = new_body(resource, owner.id)
    response = client.post(f"/api/v1/{resource}", json=body, headers=auth_headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/{resource}/{created['id']}")
    assert response.headers["ETag"] == '"1"' and created["version"] == 1
    for name, value in body.items():
        if name != "password":
            assert created[name] == value
    for stamp in ("created_at", "updated_at"):
        parsed = datetime.fromisoformat(created[stamp])
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0
    fetched = client.get(response.headers["Location"], headers=auth_headers)
    assert fetched.status_code == 200 and fetched.get_json() == created
    assert db.session.get(MODELS[resource], created["id"]) is not None


@pytest.mark.parametrize("resource", MODELS)
def test_patch_changes_only_the_given_fields(client, auth_headers, owner, resource):
    created = client.post(f"/api/v1/{resource}", json=new_body(resource, owner.id), headers=auth_headers).get_json()
    response = client.patch(f"/api/v1/{resource}/{created['id']}", json=PATCHES[resource], headers=auth_headers)
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed["version"] == 2 and response.headers["ETag"] == '"2"'
    expected = {**created, **PATCHES[resource]}
    for name in set(expected) - {"version", "updated_at"}:
        assert changed[name] == expected[name], name
    assert client.get(f"/api/v1/{resource}/{created['id']}", headers=auth_headers).get_json() == changed


@pytest.mark.parametrize("resource", MODELS)
def test_put_replaces_and_requires_every_required_field(client, auth_headers, owner, resource):
    created = client.post(f"/api/v1/{resource}", json=new_body(resource, owner.id), headers=auth_headers).get_json()
    url = f"/api/v1/{resource}/{created['id']}"
    body = {**new_body(resource, owner.id), **PATCHES[resource]}
    body.pop("password", None)
    response = client.put(url, json=body, headers=auth_headers)
    assert response.status_code == 200, response.get_json()
    for name, value in body.items():
        assert response.get_json()[name] == value
    required = {"users": "username", "cars": "owner_id", "tasks": "title"}[resource]
    incomplete = {k: v for k, v in body.items() if k != required}
    problem = assert_problem(client.put(url, json=incomplete, headers=auth_headers), 422, required)
    assert required in problem["errors"]


def test_put_resets_omitted_optional_fields(client, auth_headers, owner):
    task = client.post("/api/v1/tasks", json=new_body("tasks", owner.id), headers=auth_headers).get_json()
    response = client.put(f"/api/v1/tasks/{task['id']}", json={"title": "Only a title"}, headers=auth_headers)
    assert response.status_code == 200
    assert response.get_json()["description"] is None and response.get_json()["assignee_id"] is None
    assert response.get_json()["done"] is False


@pytest.mark.parametrize("resource", MODELS)
def test_delete(client, auth_headers, owner, resource):
    created = client.post(f"/api/v1/{resource}", json=new_body(resource, owner.id), headers=auth_headers).get_json()
    url = f"/api/v1/{resource}/{created['id']}"
    response = client.delete(url, headers=auth_headers)
    assert response.status_code == 204 and response.data == b""
    assert_problem(client.get(url, headers=auth_headers), 404)
    assert db.session.get(MODELS[resource], created["id"]) is None


def test_unknown_delete_parameter_is_400(client, auth_headers, owner):
    car = client.post("/api/v1/cars", json=new_body("cars", owner.id), headers=auth_headers).get_json()
    assert_problem(client.delete(f"/api/v1/cars/{car['id']}?cascade=true", headers=auth_headers), 400, "cascade")
    assert db.session.get(Car, car["id"]) is not None
