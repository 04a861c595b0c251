"""Bodies are validated by the forms, behind a strict JSON type gate."""
import pytest

from best_app.extensions import db
from best_app.models import Car, Task, User
from tests.api.conftest import assert_problem
from tests.conftest import make_car, make_user

BAD_TYPES = [
    ("tasks", {"title": "t", "done": "yes"}, "done"),
    ("tasks", {"title": "t", "done": 1}, "done"),
    ("tasks", {"title": 42}, "title"),
    ("tasks", {"title": "t", "assignee_id": "1"}, "assignee_id"),
    ("tasks", {"title": "t", "assignee_id": True}, "assignee_id"),
    ("tasks", {"title": "t", "description": ["a"]}, "description"),
    ("tasks", {"title": "nul \u0000 inside"}, "title"),
    ("cars", {"model": "m", "owner_id": "x"}, "owner_id"),
    ("cars", {"model": "m", "owner_id": 1.5}, "owner_id"),
    ("cars", {"model": "m", "owner_id": 2**63}, "owner_id"),
    ("cars", {"model": None, "owner_id": 1}, "model"),
    ("users", {"username": "mia", "email": "mia@example.com", "is_admin": "true"}, "is_admin"),
    ("users", {"username": "mia", "email": "mia@example.com", "role": 3}, "role"),
    ("users", {"username": "mia", "email": "mia@example.com", "role": None}, "role"),
]


@pytest.mark.parametrize("resource,body,field", BAD_TYPES)
def test_wrong_json_types_are_422_on_that_field(client, auth_headers, resource, body, field):
    make_user("owner")
    problem = assert_problem(client.post(f"/api/v1/{resource}", json=body, headers=auth_headers), 422, field)
    assert list(problem["errors"]) == [field]


INVALID = [
    ("users", {"username": "x", "email": "x@example.com"}, "username"),
    ("users", {"username": "has space", "email": "x@example.com"}, "username"),
    ("users", {"username": "nina", "email": "not-an-email"}, "email"),
    ("users", {"username": "nina", "email": "n@example.com", "role": "pilot"}, "role"),
    ("cars", {"model": "   "}, "model"),
    ("cars", {"model": "m"}, "owner_id"),
    ("tasks", {"title": "x" * 201}, "title"),
]


@pytest.mark.parametrize("resource,body,field", INVALID)
def test_form_rules_apply(client, auth_headers, resource, body, field):
    problem = assert_problem(client.post(f"/api/v1/{resource}", json=body, headers=auth_headers), 422, field)
    assert field in problem["errors"] and all(isinstance(m, str) for m in problem["errors"][field])


@pytest.mark.parametrize("field", ["colour", "id", "version", "password_hash", "created_at"])
def test_unknown_and_read_only_fields_are_422(client, auth_headers, field):
    problem = assert_problem(client.post("/api/v1/tasks", json={"title": "t", field: 1}, headers=auth_headers),
                             422, field)
    assert list(problem["errors"]) == [field]
    assert db.session.scalar(db.select(db.func.count()).select_from(Task)) == 0


def test_a_nonexistent_owner_or_assignee_is_422_on_that_field(client, auth_headers):
    problem = assert_problem(client.post("/api/v1/cars", json={"model": "m", "owner_id": 999},
                                         headers=auth_headers), 422, "owner_id")
    assert list(problem["errors"]) == ["owner_id"]
    problem = assert_problem(client.post("/api/v1/tasks", json={"title": "t", "assignee_id": 999},
                                         headers=auth_headers), 422, "assignee_id")
    assert list(problem["errors"]) == ["assignee_id"]


def test_patch_is_validated_as_the_merged_whole(client, auth_headers):
    owner = make_user("olga")
    car = make_car(owner)
    assert_problem(client.patch(f"/api/v1/cars/{car.id}", json={"model": ""}, headers=auth_headers), 422, "model")
    assert_problem(client.patch(f"/api/v1/cars/{car.id}", json={"owner_id": None}, headers=auth_headers),
                   422, "owner_id")
    db.session.expire_all()
    assert db.session.get(Car, car.id).model == "Volvo XC40" and db.session.get(Car, car.id).version == 1


def test_strings_are_stripped_like_in_the_admin_pages(client, auth_headers):
    response = client.post("/api/v1/users", json={"username": "  pat  ", "email": " pat@example.com "},
                           headers=auth_headers)
    assert response.status_code == 201
    assert db.session.get(User, response.get_json()["id"]).username == "pat"


def test_text_the_database_cannot_store_is_422_not_500(client, auth_headers):
    body = '{"title": "lone \\ud800 surrogate"}'
    response = client.post("/api/v1/tasks", data=body, headers=auth_headers, content_type="application/json")
    assert "title" in assert_problem(response, 422, "surrogate")["errors"]
