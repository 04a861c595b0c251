"""The OpenAPI document: valid, complete, and true to the code; the docs page works offline."""
import re

import pytest

from openapi_spec_validator import validate

from tests.api.conftest import assert_problem
from tests.conftest import make_user


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
    assert user_input["properties"]["role"] == {"$ref": "#/components/schemas/Role"}
    assert schemas["User"]["properties"]["role"] == {"$ref": "#/components/schemas/Role"}
    assert schemas["Role"]["enum"] == ["student", "teacher", "employee"]
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


def list_parameter(spec: dict, path: str, name: str) -> dict:
    return next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name)


def test_query_parameters_state_what_is_refused(client):
    spec = document(client)
    assert list_parameter(spec, "/api/v1/cars", "cursor")["schema"]["minLength"] == 1
    model = list_parameter(spec, "/api/v1/cars", "model")["schema"]
    assert model["maxLength"] == 100
    q = list_parameter(spec, "/api/v1/cars", "q")["schema"]
    for schema in (model, q):
        assert re.fullmatch(schema["pattern"], " any text, even padded ")
        assert not re.fullmatch(schema["pattern"], "a\x07b") and not re.fullmatch(schema["pattern"], "a\nb")


def test_body_rules_are_documented(client):
    spec = document(client)
    assert "412" in spec["paths"]["/api/v1/tasks/{id}"]["patch"]["responses"]
    if_match = next(p for p in spec["paths"]["/api/v1/tasks/{id}"]["patch"]["parameters"] if p["name"] == "If-Match")
    assert "before the body is validated" in if_match["description"]
    problem400 = spec["components"]["responses"]["Problem400"]["description"]
    assert "32 levels" in problem400 and "key twice" in problem400
    assert "trimmed" in spec["info"]["description"] and "control character" in spec["info"]["description"]


def conforms(schema: dict, value: str) -> bool:
    """Whether `value` satisfies a string property's schema, reading patterns as
    ECMA-262 does (`$` is the end of the string, unlike Python's re.search)."""
    return (len(value) >= schema.get("minLength", 0) and len(value) <= schema.get("maxLength", len(value))
            and ("pattern" not in schema or re.fullmatch(schema["pattern"], value) is not None)
            and ("not" not in schema or re.search(schema["not"]["pattern"], value) is None))


PROBES = ["plain", "tab\there", "line\nbreak", "crlf\r\nx", "bell\x07", "nul\x00", "del\x7f", "esc\x1b[0m",
          "nel\x85x", "nbsp\xa0x", "  padded  ", "trailing\n", "\u3000wide", "Ωmega 🚗", "x\u2028y", "é" * 8]


@pytest.mark.parametrize("resource,field", [("users", "username"), ("users", "name"), ("users", "password"),
                                            ("cars", "model"), ("tasks", "title"), ("tasks", "description")])
def test_the_input_schema_and_the_forms_agree(client, auth_headers, resource, field):
    """What the schema calls valid is accepted; a control character the schema
    refuses is refused on the field. (Other schema-invalid text may be accepted
    after trimming: the field's description says so.)"""
    title = resource[:-1].capitalize()
    schema = document(client)["components"]["schemas"][f"{title}Input"]["properties"][field]
    owner = make_user("owner")
    for i, probe in enumerate(PROBES):
        body = {"users": {"username": f"probe{i}", "email": f"probe{i}@example.com"},
                "cars": {"model": "m", "owner_id": owner.id}, "tasks": {"title": "t"}}[resource]
        body[field] = probe
        response = client.post(f"/api/v1/{resource}", json=body, headers=auth_headers)
        if conforms(schema, probe):
            assert response.status_code == 201, (probe, response.get_json())
        elif re.search("[\x00-\x1f\x7f]", probe.strip()):
            assert field in assert_problem(response, 422)["errors"], probe


def test_the_document_is_fit_for_client_generators(client):
    """Generated clients name functions after operationIds and enum classes after
    components: a field or parameter with an inline enum would get a class named
    after its place (ListUsersRole), and a member without x-enum-varnames a guess."""
    spec = document(client)
    operations = [operation for item in spec["paths"].values()
                  for method, operation in item.items() if method != "parameters"]
    ids = [operation.get("operationId") for operation in operations]
    assert all(ids) and len(ids) == len(set(ids)), ids
    schemas = spec["components"]["schemas"]
    fields = [*(parameter["schema"] for operation in operations for parameter in operation.get("parameters", [])),
              *(field for schema in schemas.values() for field in schema.get("properties", {}).values())]
    assert not [field for field in fields if "enum" in field]
    for name, schema in schemas.items():
        if "enum" in schema:
            assert len(schema["x-enum-varnames"]) == len(schema["enum"]), name
    assert schemas["UserSort"]["x-enum-varnames"][schemas["UserSort"]["enum"].index("-username")] == "USERNAME_DESC"
    assert schemas["Health"]["properties"]["status"] == {"$ref": "#/components/schemas/HealthStatus"}
    created_after = list_parameter(spec, "/api/v1/tasks", "created_after")["schema"]
    assert [branch["type"] for branch in created_after["anyOf"]] == ["string", "string"]
