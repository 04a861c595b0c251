"""Every error under /api/ is application/problem+json, with the right status."""
import pytest

from tests.api.conftest import assert_problem


def test_unknown_route_is_a_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.get("/api/v2/users"), 404)


def test_wrong_method_is_405_with_allow(client, auth_headers):
    response = client.delete("/api/v1/users", headers=auth_headers)
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_unknown_id_is_404(client, auth_headers):
    for resource in ("users", "cars", "tasks"):
        assert_problem(client.get(f"/api/v1/{resource}/999", headers=auth_headers), 404, "999")
        assert_problem(client.patch(f"/api/v1/{resource}/999", json={}, headers=auth_headers), 404)
        assert_problem(client.delete(f"/api/v1/{resource}/999", headers=auth_headers), 404)
    # Past the id column's range: still a clean 404, never a database error.
    assert_problem(client.get(f"/api/v1/users/{2**63}", headers=auth_headers), 404)
    assert_problem(client.put(f"/api/v1/cars/{2**40}", json={}, headers=auth_headers), 404)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415(client, auth_headers, content_type):
    headers = {**auth_headers, **({"Content-Type": content_type} if content_type else {})}
    assert_problem(client.post("/api/v1/tasks", data='{"title": "x"}', headers=headers), 415)


@pytest.mark.parametrize("body", ['{"title": ', "not json", b'{"title": "\xff"}', ""])
def test_malformed_json_is_400(client, auth_headers, body):
    response = client.post("/api/v1/tasks", data=body, headers=auth_headers, content_type="application/json")
    assert_problem(response, 400, "JSON")


def test_a_body_over_the_limit_is_413(client, auth_headers):
    body = '{"title": "x", "description": "' + "a" * (64 * 1024) + '"}'
    response = client.post("/api/v1/tasks", data=body, headers=auth_headers, content_type="application/json")
    assert_problem(response, 413)


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null"])
def test_a_body_that_is_not_an_object_is_422(client, auth_headers, body):
    response = client.post("/api/v1/tasks", data=body, headers=auth_headers, content_type="application/json")
    assert_problem(response, 422)


def test_a_500_is_a_problem_without_internals():
    from best_app import create_app
    from config import TestConfig

    app = create_app(TestConfig())

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret internals: SELECT password_hash FROM users")

    with app.app_context():
        response = app.test_client().get("/api/v1/_boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True) and "password_hash" not in str(body)
