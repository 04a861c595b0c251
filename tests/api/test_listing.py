"""Lists: keyset pagination, sorting, filters, search and strict parameters."""
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import assert_problem, bulk_cars, bulk_tasks, bulk_users, count_statements

ROWS = 1234
# A non-unique sort field per resource: many rows share each value.
NON_UNIQUE = {"users": "role", "cars": "model", "tasks": "done"}


def seed(resource: str) -> None:
    if resource == "users":
        bulk_users(ROWS)
        return
    owners = bulk_users(10)
    if resource == "cars":
        bulk_cars(owners, ROWS)
    else:
        bulk_tasks([*owners, None], ROWS)


def links(response) -> dict[str, str]:
    """rel -> path?query of each reference in the Link header."""
    found = {}
    for part in response.headers.get("Link", "").split(", "):
        if part:
            target, rel = part.split(">; rel=")
            url = urlsplit(target.lstrip("<"))
            found[rel.strip('"')] = f"{url.path}?{url.query}"
    return found


def walk(client, headers, url: str, use_link: bool = False, cursor: str = "next_cursor") -> list[dict]:
    items, pages = [], 0
    rel = cursor.removesuffix("_cursor")
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items.extend(body["items"] if rel == "next" else reversed(body["items"]))
        pages += 1
        assert pages <= ROWS, "pagination does not end"
        if body[cursor] is None:
            assert rel not in links(response)
            break
        if use_link:
            url = links(response)[rel]
        else:
            sep = "&" if "?" in url.split("cursor=")[0] else "?"
            url = url.split("cursor=")[0].rstrip("&?") + f"{sep}cursor={body[cursor]}"
    return items


def sort_key(field: str):
    return lambda item: (item[field], item["id"])


@pytest.mark.parametrize("resource", ["users", "cars", "tasks"])
@pytest.mark.parametrize("sort", ["id", "-id", "nonunique", "-nonunique", "created_at", "-updated_at"])
def test_walking_every_page_returns_every_row_once_in_order(client, auth_headers, resource, sort):
    seed(resource)
    field = NON_UNIQUE[resource] if "nonunique" in sort else sort.lstrip("-")
    sort_param = ("-" if sort.startswith("-") else "") + field
    items = walk(client, auth_headers, f"/api/v1/{resource}?limit=100&sort={sort_param}",
                 use_link=sort == "-nonunique")
    ids = [item["id"] for item in items]
    expected = ROWS + 1 if resource == "users" else ROWS  # users: plus the token's admin
    assert len(ids) == len(set(ids)) == expected
    assert items == sorted(items, key=sort_key(field), reverse=sort.startswith("-"))


def test_default_and_maximum_page_sizes(client, auth_headers):
    bulk_users(600)
    assert len(client.get("/api/v1/users", headers=auth_headers).get_json()["items"]) == 50
    assert len(client.get("/api/v1/users?limit=500", headers=auth_headers).get_json()["items"]) == 500
    last = client.get("/api/v1/users?limit=1&sort=-id", headers=auth_headers).get_json()
    assert len(last["items"]) == 1 and last["next_cursor"]


def test_lists_never_count(client, auth_headers):
    bulk_users(120)
    with count_statements() as statements:
        client.get("/api/v1/users?limit=10&role=student&q=user", headers=auth_headers)
    assert statements and not any("count(" in s.lower() for s in statements)


@pytest.mark.parametrize("query,check", [
    ("role=teacher", lambda u: u["role"] == "teacher"),
    ("is_admin=true", lambda u: u["is_admin"] is True),
    ("is_admin=0", lambda u: u["is_admin"] is False),
    ("q=USER0012", lambda u: "user0012" in u["username"]),
    ("q=name%203&role=student", lambda u: u["name"] == "Name 3" and u["role"] == "student"),
])
def test_user_filters_and_search(client, auth_headers, query, check):
    bulk_users(300)
    items = walk(client, auth_headers, f"/api/v1/users?limit=37&{query}")
    assert items and all(check(u) for u in items)
    everyone = walk(client, auth_headers, "/api/v1/users?limit=500")
    assert len(items) == sum(1 for u in everyone if check(u))


def test_car_and_task_filters(client, auth_headers):
    owners = bulk_users(3)
    bulk_cars(owners, 30)
    bulk_tasks([owners[0], None], 20)
    cars = client.get(f"/api/v1/cars?owner_id={owners[1]}&model=Model%201", headers=auth_headers).get_json()["items"]
    assert cars and all(c["owner_id"] == owners[1] and c["model"] == "Model 1" for c in cars)
    tasks = client.get(f"/api/v1/tasks?done=true&assignee_id={owners[0]}&limit=500",
                       headers=auth_headers).get_json()["items"]
    assert len(tasks) == 10 and all(t["done"] and t["assignee_id"] == owners[0] for t in tasks)
    assert client.get("/api/v1/tasks?q=task%201", headers=auth_headers).get_json()["items"]


def test_search_treats_wildcards_literally(client, auth_headers):
    bulk_users(20)
    assert client.get("/api/v1/users?q=%25", headers=auth_headers).get_json()["items"] == []
    assert client.get("/api/v1/users?q=user_", headers=auth_headers).get_json()["items"] == []


@pytest.mark.parametrize("query,parameter", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"), ("limit=-1", "limit"), ("limit=%C2%B2", "limit"),
    ("limit=10.5", "limit"), ("limit=10.", "limit"), ("limit=1e1", "limit"), ("limit=" + "9" * 5000, "limit"),
    ("sort=password_hash", "sort"), ("sort=--id", "sort"), ("sort=bogus", "sort"),
    ("role=pilot", "role"), ("is_admin=maybe", "is_admin"), ("colour=red", "colour"),
    ("cursor=garbage", "cursor"), ("limit=5&limit=6", "limit"), ("q=" + "x" * 201, "q"), ("q=a%00b", "q"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, auth_headers, query, parameter):
    problem = assert_problem(client.get(f"/api/v1/users?{query}", headers=auth_headers), 400, parameter)
    assert problem["parameter"] == parameter


@pytest.mark.parametrize("query,parameter", [("owner_id=x", "owner_id"), ("owner_id=99999999999", "owner_id"), ("owner_id=%C2%B2", "owner_id"),
                                             ("done=1", None), ("assignee_id=0", "assignee_id")])
def test_bad_filter_values_on_cars_and_tasks(client, auth_headers, query, parameter):
    resource = "cars" if "owner" in query else "tasks"
    response = client.get(f"/api/v1/{resource}?{query}", headers=auth_headers)
    if parameter is None:
        assert response.status_code == 200
    else:
        assert assert_problem(response, 400)["parameter"] == parameter


def test_a_whole_number_written_with_a_zero_fraction_is_that_number(client, auth_headers, admin_user):
    # JSON Schema's integers include 10.0; a client built from the document may write one so.
    assert len(client.get("/api/v1/users?limit=1.00", headers=auth_headers).json["items"]) == 1
    assert client.get(f"/api/v1/tasks?assignee_id={admin_user.id}.0", headers=auth_headers).status_code == 200
    assert assert_problem(client.get("/api/v1/tasks?assignee_id=0.0", headers=auth_headers), 400)["parameter"] \
        == "assignee_id"


def test_a_cursor_from_another_sort_or_resource_is_400(client, auth_headers):
    bulk_users(10)
    cursor = client.get("/api/v1/users?limit=2&sort=name", headers=auth_headers).get_json()["next_cursor"]
    assert client.get(f"/api/v1/users?limit=2&sort=name&cursor={cursor}", headers=auth_headers).status_code == 200
    assert_problem(client.get(f"/api/v1/users?sort=-name&cursor={cursor}", headers=auth_headers), 400, "cursor")
    assert_problem(client.get(f"/api/v1/cars?sort=model&cursor={cursor}", headers=auth_headers), 400, "cursor")
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert_problem(client.get(f"/api/v1/users?sort=name&cursor={tampered}", headers=auth_headers), 400, "cursor")


def test_links_and_locations_do_not_echo_the_host_header(client, auth_headers):
    bulk_users(3)
    hostile = {**auth_headers, "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    for url in ("/api/v1/users?limit=1&sort=-id", "/api/v1/users/1/cars?limit=1"):
        response = client.get(url, headers=hostile)
        assert response.status_code == 200
    link = client.get("/api/v1/users?limit=1&sort=-id", headers=hostile).headers["Link"]
    assert link.startswith("</api/v1/users?limit=1&sort=-id&cursor=") and "evil" not in link
    response = client.post("/api/v1/tasks", json={"title": "t"}, headers=hostile)
    assert response.status_code == 201 and response.headers["Location"] == f"/api/v1/tasks/{response.get_json()['id']}"
    # The relative link, resolved against the request, is the next page.
    next_page = client.get(link[1:link.index(">")], headers=auth_headers)
    assert next_page.status_code == 200 and len(next_page.get_json()["items"]) == 1


def test_a_scoped_list_links_to_itself(client, auth_headers):
    owners = bulk_users(1)
    bulk_cars(owners, 3)
    link = client.get(f"/api/v1/users/{owners[0]}/cars?limit=1", headers=auth_headers).headers["Link"]
    assert link.startswith(f"</api/v1/users/{owners[0]}/cars?limit=1&cursor=")


@pytest.mark.parametrize("query,parameter", [
    ("model=" + "x" * 101, "model"), ("model=a%07b", "model"), ("model=a%7Fb", "model"), ("q=a%0Ab", "q"),
    ("q=%1B[31m", "q"), ("cursor=", "cursor"),
])
def test_text_parameters_follow_the_documented_rules(client, auth_headers, query, parameter):
    assert assert_problem(client.get(f"/api/v1/cars?{query}", headers=auth_headers), 400)["parameter"] == parameter


def test_text_filters_within_the_rules_are_accepted(client, auth_headers):
    owners = bulk_users(1)
    bulk_cars(owners, 1)
    for query in ("model=" + "x" * 100, "model=", "model=%20Model%200", "q=%C3%A9t%C3%A9"):
        assert client.get(f"/api/v1/cars?{query}", headers=auth_headers).status_code == 200, query


def test_links_are_built_for_each_request_not_cached_with_the_page(client, auth_headers):
    """Two requests for the same page (one HIT) get links that keep their own arguments."""
    bulk_tasks([None], 3)
    first = client.get("/api/v1/tasks?limit=1&count=true", headers=auth_headers)
    second = client.get("/api/v1/tasks?limit=1", headers=auth_headers)
    assert second.headers["X-Cache"] == "HIT"
    assert "count=true" in links(first)["next"] and "count=true" not in links(second)["next"]
    assert links(second)["next"].startswith("/api/v1/tasks?limit=1&cursor=")


def test_a_plain_pages_statement_is_built_once_whatever_its_cursor_and_limit(client, auth_headers, monkeypatch):
    """Its cursor and limit are parameters; building it and SQLAlchemy's walk of it for
    its cache key were a tenth of a page's CPU."""
    from best_app.resources import query

    bulk_tasks([None], 30)
    built = []
    page_statement = query._page_statement
    monkeypatch.setattr(query, "_PAGE_STATEMENTS", {})
    monkeypatch.setattr(query, "_page_statement", lambda *args: built.append(args[3:]) or page_statement(*args))
    for limit in (4, 7):
        items = walk(client, auth_headers, f"/api/v1/tasks?limit={limit}&sort=-title")
        assert items == sorted(items, key=sort_key("title"), reverse=True)
        assert len(items) == 30
    # The first page, then every page past a cursor, for both limits: two statements.
    assert len(built) == 2
    # A filter's value is part of its statement: such a page is built for each request.
    for done in ("false", "true"):
        assert client.get(f"/api/v1/tasks?limit=4&done={done}", headers=auth_headers).status_code == 200
    assert len(built) == 4
