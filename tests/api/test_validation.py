"""Bodies are validated by the forms, behind a strict JSON type gate."""
import pytest

from best_app.extensions import db
from best_app.models import Car, Task, User
from tests.api.conftest import assert_problem
from tests.conftest import make_car, make_task, make_user

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


# --- hostile JSON --------------------------------------------------------------

def write_targets(resource: str) -> list[tuple[str, str]]:
    """(method, url) of every write that takes a body, on rows that exist."""
    owner = make_user("owner")
    row = {"users": owner, "cars": make_car(owner), "tasks": make_task("t", owner)}[resource]
    return [("post", f"/api/v1/{resource}"), ("put", f"/api/v1/{resource}/{row.id}"),
            ("patch", f"/api/v1/{resource}/{row.id}")]


@pytest.mark.parametrize("shape", ["arrays", "objects"])
@pytest.mark.parametrize("resource", ["users", "cars", "tasks"])
def test_deeply_nested_json_is_400_saying_why(client, auth_headers, resource, shape):
    nested = "[" * 1000 + "]" * 1000 if shape == "arrays" else '{"a":' * 1000 + "1" + "}" * 1000
    for method, url in write_targets(resource):
        response = getattr(client, method)(url, data=nested, headers=auth_headers, content_type="application/json")
        assert_problem(response, 400, "nests arrays and objects more than 32 levels deep")


def test_the_nesting_limit_is_32_levels(client, auth_headers):
    def body(depth):  # the object itself is the first level
        return '{"title": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    assert_problem(client.post("/api/v1/tasks", data=body(33), headers=auth_headers,
                               content_type="application/json"), 400, "32 levels")
    # 32 levels reach the type check, which refuses a list as a title
    assert_problem(client.post("/api/v1/tasks", data=body(32), headers=auth_headers,
                               content_type="application/json"), 422, "title")


def test_brackets_inside_strings_do_not_count_as_nesting(client, auth_headers):
    title = '\\" [{' * 30 + "\\\\"  # escaped quotes and a trailing backslash inside the string
    body = '{"title": "' + title + '", "description": "' + "[" * 40 + '"}'
    response = client.post("/api/v1/tasks", data=body, headers=auth_headers, content_type="application/json")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["title"] == ('" [{' * 30 + "\\").strip()


@pytest.mark.parametrize("raw,depth", [
    (b"{}", 1), (b"[[1], {\"a\": [2]}]", 3), (b'"[[[[' + b"[" * 40 + b'"', 0),
    (b'["\\"' + b"[" * 40 + b'"]', 1), (b"[" * 40, 33), (b'["' + b"[" * 40, 1),
])
def test_nesting_depth_scans_without_parsing(raw, depth):
    from best_app.api.bodies import nesting_depth

    # Bodies with no more brackets than the limit are not scanned at all (0).
    found = nesting_depth(raw)
    assert found == depth if raw.count(b"[") + raw.count(b"{") > 32 else found in (0, depth)


def test_a_key_given_twice_is_400_naming_it(client, auth_headers):
    body = '{"username": "zed", "email": "zed@example.com", "is_admin": false, "is_admin": true}'
    response = client.post("/api/v1/users", data=body, headers=auth_headers, content_type="application/json")
    problem = assert_problem(response, 400, "'is_admin'", "more than once")
    assert list(problem["errors"]) == ["is_admin"]
    assert db.session.scalar(db.select(User).where(User.username == "zed")) is None
    user = make_user("amy")
    response = client.patch(f"/api/v1/users/{user.id}", data='{"name": "A", "name": "B"}', headers=auth_headers,
                            content_type="application/json")
    assert_problem(response, 400, "'name'")
    db.session.expire_all()
    assert db.session.get(User, user.id).version == 1


# --- control characters ----------------------------------------------------------

SINGLE_LINE = [("users", "username"), ("users", "email"), ("users", "name"), ("users", "password"),
               ("cars", "model"), ("tasks", "title")]


def valid_body(resource: str) -> dict:
    owner = db.session.scalar(db.select(User).where(User.username == "owner")) or make_user("owner")
    return {"users": {"username": "newbie", "email": "newbie@example.com", "name": "Newton",
                      "password": "long enough"},
            "cars": {"model": "Fiat 500", "owner_id": owner.id},
            "tasks": {"title": "Wash the car", "description": "Both sides"}}[resource]


@pytest.mark.parametrize("character", ["\x01", "\x07", "\x1b", "\t", "\n", "\r", "\x1f", "\x7f"])
@pytest.mark.parametrize("resource,field", SINGLE_LINE)
def test_control_characters_in_single_line_fields_are_422_on_that_field(client, auth_headers, resource, field,
                                                                        character):
    body = valid_body(resource)
    body[field] = body[field][:3] + character + body[field][3:]
    problem = assert_problem(client.post(f"/api/v1/{resource}", json=body, headers=auth_headers), 422, field,
                             f"U+{ord(character):04X}")
    assert list(problem["errors"]) == [field]


def test_the_description_keeps_tab_and_line_breaks_only(client, auth_headers):
    text = "step 1\tcheck\r\nstep 2\n"
    response = client.post("/api/v1/tasks", json={"title": "t", "description": text}, headers=auth_headers)
    assert response.status_code == 201 and response.get_json()["description"] == text
    for character in ("\x00", "\x07", "\x0b", "\x0c", "\x7f"):
        problem = assert_problem(client.post("/api/v1/tasks", json={"title": "t", "description": f"a{character}"},
                                             headers=auth_headers), 422, "description")
        assert list(problem["errors"]) == ["description"]


def test_an_integral_number_is_an_integer_as_json_schema_says(client, auth_headers):
    owner = make_user("owner")
    response = client.post("/api/v1/cars", json={"model": "m", "owner_id": float(owner.id)}, headers=auth_headers)
    assert response.status_code == 201 and response.get_json()["owner_id"] == owner.id
