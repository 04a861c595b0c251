"""The OpenAPI document: valid, complete, and true to the code; the docs page works offline."""
import re

from openapi_spec_validator import validate

from tests.api.conftest import assert_problem


def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(client):
    spec = document(client)
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_api_route_is_documented(app, client):
    paths = document(client)["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in paths, f"{rule.rule} is not documented"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {rule.rule} is not documented"


def test_the_document_follows_the_forms_and_the_registry(client):
    schemas = document(client)["components"]["schemas"]
    user_input = schemas["UserInput"]
    assert set(user_input["required"]) == {"username", "email"}
    assert user_input["properties"]["username"]["maxLength"] == 64
    assert user_input["properties"]["role"]["enum"] == ["student", "teacher", "employee"]
    assert user_input["properties"]["password"]["writeOnly"] is True
    assert "password" not in schemas["User"]["properties"] and "password_hash" not in schemas["User"]["properties"]
    assert schemas["TaskInput"]["properties"]["done"]["type"] == "boolean"
    assert schemas["CarInput"]["properties"]["owner_id"]["type"] == "integer"


def test_read_only_tokens_are_documented(client):
    spec = document(client)
    assert "403" in spec["paths"]["/api/v1/users/{id}"]["patch"]["responses"]
    assert "admin" in spec["components"]["securitySchemes"]["bearer"]["description"]


def test_the_docs_page_loads_only_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    assert "<script>" not in html  # the CSP forbids inline scripts
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(sources) >= 4
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_problem_responses_are_problem_json(client):
    assert_problem(client.get("/api/v1/users"), 401)
