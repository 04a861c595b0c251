"""Filters, counts and search across references: the same parameters as the admin pages."""
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from sqlalchemy import text, update

from best_app.extensions import db
from best_app.models import Task, User
from best_app.resources import REGISTRY
from tests.api.conftest import assert_problem

from tests.conftest import USING_POSTGRES, make_car, make_task, make_user


def ids(client, headers, url) -> list[int]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


@pytest.fixture
def people(admin_user):
    jane = make_user("jgarcia", name="Jane Garcia", email="jane@example.com", role="teacher")
    omar = make_user("omar", name="Omar Said", role="student", is_admin=True)
    lone = make_user("lonely", name="No Cars", role="teacher")
    cars = [make_car(jane, "Volvo XC40"), make_car(omar, "Fiat 500")]
    tasks = [make_task("Wash car", jane), make_task("Plan trip", omar, done=True), make_task("Nobody's")]
    return {"admin": admin_user, "jane": jane, "omar": omar, "lone": lone, "cars": cars, "tasks": tasks}


def test_every_boolean_choice_and_reference_filters(client, auth_headers, people):
    jane, omar, lone = people["jane"], people["omar"], people["lone"]
    assert ids(client, auth_headers, "/api/v1/users?role=teacher") == [jane.id, lone.id]
    assert ids(client, auth_headers, "/api/v1/users?is_admin=true") == [people["admin"].id, omar.id]
    assert ids(client, auth_headers, "/api/v1/users?has_cars=false") == [people["admin"].id, lone.id]
    assert ids(client, auth_headers, "/api/v1/users?has_tasks=true&role=student") == [omar.id]
    wash, plan, nobody = (task.id for task in people["tasks"])
    assert ids(client, auth_headers, "/api/v1/tasks?done=false") == [wash, nobody]
    assert ids(client, auth_headers, "/api/v1/tasks?assignee_id=none") == [nobody]
    assert ids(client, auth_headers, f"/api/v1/tasks?assignee_id={omar.id}") == [plan]
    assert ids(client, auth_headers, f"/api/v1/cars?owner_id={jane.id}") == [people["cars"][0].id]


def test_date_ranges_on_created_and_updated(client, auth_headers, people):
    old, new = people["tasks"][0], people["tasks"][1]
    long_ago = datetime(2020, 1, 15, 12, 0, tzinfo=timezone.utc)
    db.session.execute(update(Task).where(Task.id == old.id).values(created_at=long_ago, updated_at=long_ago))
    db.session.commit()
    assert old.id not in ids(client, auth_headers, "/api/v1/tasks?created_after=2021-01-01")
    assert ids(client, auth_headers, "/api/v1/tasks?created_before=2020-01-16") == [old.id]
    assert ids(client, auth_headers, "/api/v1/tasks?created_after=2020-01-15&created_before=2020-01-16") == [old.id]
    assert ids(client, auth_headers, "/api/v1/tasks?updated_before=2020-01-15T12:00:00Z") == []  # exclusive
    assert ids(client, auth_headers, "/api/v1/tasks?updated_after=2020-01-15T12:00:00Z")[0] == old.id  # inclusive
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    assert new.id in ids(client, auth_headers, f"/api/v1/tasks?created_before={tomorrow}")


@pytest.mark.parametrize("query, parameter", [
    ("users?role=admin", "role"), ("users?is_admin=maybe", "is_admin"), ("users?has_cars=", "has_cars"),
    ("tasks?assignee_id=nobody", "assignee_id"), ("cars?owner_id=none", "owner_id"),
    ("tasks?created_after=yesterday", "created_after"), ("tasks?updated_before=2026-13-01", "updated_before"),
    ("users?count=perhaps", "count"), ("tasks?role=teacher", "role"),
])
def test_a_malformed_or_unknown_filter_is_a_400_naming_it(client, auth_headers, query, parameter):
    body = assert_problem(client.get(f"/api/v1/{query}", headers=auth_headers), 400, parameter)
    assert body["parameter"] == parameter


def test_search_finds_cars_by_owner_and_tasks_by_assignee_in_any_case(client, auth_headers, people):
    volvo, fiat = (car.id for car in people["cars"])
    assert ids(client, auth_headers, "/api/v1/cars?q=GARCIA") == [volvo]  # the owner's name
    assert ids(client, auth_headers, "/api/v1/cars?q=jane@") == [volvo]  # the owner's email
    assert ids(client, auth_headers, "/api/v1/cars?q=fiat") == [fiat]  # the car's own model
    assert ids(client, auth_headers, "/api/v1/cars?q=OMAR") == [fiat]  # the owner's username
    wash, plan, _nobody = (task.id for task in people["tasks"])
    assert ids(client, auth_headers, "/api/v1/tasks?q=said") == [plan]
    assert ids(client, auth_headers, "/api/v1/tasks?q=jgarcia&done=false") == [wash]
    assert ids(client, auth_headers, "/api/v1/users?q=JANE") == [people["jane"].id]


def test_search_across_references_with_a_common_term(client, auth_headers, admin_user, monkeypatch):
    """Past RELATED_IDS matching users the search checks each row's reference instead: same answer."""
    from best_app.resources import query

    owners = [make_user(f"common{n}", name="Common Name") for n in range(5)]
    cars = [make_car(owner, "Model T") for owner in owners]
    expected = ids(client, auth_headers, "/api/v1/cars?q=common")
    monkeypatch.setattr(query, "RELATED_IDS", 2)
    db.session.execute(update(User).values(name="Common Name"))  # a write: the cached page is gone
    db.session.commit()
    assert ids(client, auth_headers, "/api/v1/cars?q=common") == expected == [car.id for car in cars]


def test_counts_only_when_asked(client, auth_headers, people):
    plain = client.get("/api/v1/users?role=teacher", headers=auth_headers).get_json()
    assert "count" not in plain
    counted = client.get("/api/v1/users?role=teacher&count=true", headers=auth_headers).get_json()
    assert counted["count"] == {"matching": {"value": 2, "exact": True, "estimated": False},
                                "total": {"value": 4, "exact": True, "estimated": False}}
    assert counted["items"] == plain["items"]


def test_counts_are_bounded(client, auth_headers, admin_user, monkeypatch):
    from best_app.resources import counting

    for n in range(6):
        make_task(f"task {n}")
    monkeypatch.setattr(counting, "BOUND", 3)
    count = client.get("/api/v1/tasks?done=false&count=true", headers=auth_headers).get_json()["count"]
    assert count["matching"] == {"value": 3, "exact": False, "estimated": False}  # "more than 3"
    assert count["total"]["value"] == 6


def test_filters_are_documented_with_their_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for resource in REGISTRY.values():
        documented = {p["name"] for p in spec["paths"][f"/api/v1/{resource.name}"]["get"]["parameters"]}
        assert set(resource.filters) <= documented, resource.name
    tasks = {p["name"]: p for p in spec["paths"]["/api/v1/tasks"]["get"]["parameters"]}
    assert tasks["assignee_id"]["schema"]["oneOf"][1] == {"type": "string", "enum": ["none"]}
    assert tasks["done"]["schema"] == {"type": "boolean"}


@pytest.mark.skipif(not USING_POSTGRES, reason="SQLite keeps no statistics: it always counts")
def test_a_short_search_in_a_large_table_is_estimated(client, auth_headers, admin_user, monkeypatch):
    """No index narrows a two-letter term, so at volume its count is the planner's estimate, marked as
    such; a longer term in the same table is still counted."""
    from best_app.resources import counting

    for n in range(150):
        make_user(f"ab{n:03}" if n < 50 else f"zz{n:03}", email=f"p{n}@example.com", name="Someone")
    db.session.execute(text("ANALYZE users"))
    db.session.commit()
    monkeypatch.setattr(counting, "ESTIMATE_ABOVE", 100)
    short = client.get("/api/v1/users?q=ab&count=true", headers=auth_headers).get_json()["count"]
    assert short["total"]["estimated"] and short["matching"]["estimated"]
    assert 10 <= short["matching"]["value"] <= 100  # 50 match: the columns' statistics, not a default guess
    longer = client.get("/api/v1/users?q=ab0&count=true", headers=auth_headers).get_json()["count"]
    assert longer["matching"] == {"value": 50, "exact": True, "estimated": False}


def test_a_search_asks_only_the_columns_that_could_hold_its_term(client, auth_headers, people):
    """A term with a space is nobody's username or email (their rules refuse spaces): only names are
    searched for it, and the match is still found; a one-word term asks all three."""
    from best_app.resources.query import own_search_clause

    users = REGISTRY["users"]
    with_space = str(own_search_clause(users, "Jane Garcia"))
    assert "users.username" not in with_space and "users.email" not in with_space and "users.name" in with_space
    assert all(f"users.{column}" in str(own_search_clause(users, "jane")) for column in ("username", "email", "name"))
    assert ids(client, auth_headers, "/api/v1/users?q=e%20garc") == [people["jane"].id]
    assert ids(client, auth_headers, "/api/v1/tasks?q=jane%20garcia") == [people["tasks"][0].id]
    assert ids(client, auth_headers, "/api/v1/users?q=%C3%A9") == []  # no username can hold an é; nobody else does


def _walk(client, headers, url) -> tuple[list[int], list[int], list[int]]:
    """Ids page by page forwards, then backwards from the last page, then the last page alone."""
    forwards, page = [], client.get(url, headers=headers).get_json()
    while True:
        forwards += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        page = client.get(f"{url}&cursor={page['next_cursor']}", headers=headers).get_json()
    last = client.get(url, headers=headers).headers["Link"].split('>; rel="last"')[0].rsplit("<", 1)[1]
    page = client.get(last, headers=headers).get_json()
    last_page, backwards = [item["id"] for item in page["items"]], []
    while True:
        backwards = [item["id"] for item in page["items"]] + backwards
        if not page["prev_cursor"]:
            break
        page = client.get(f"{url}&cursor={page['prev_cursor']}", headers=headers).get_json()
    return forwards, backwards, last_page


@pytest.mark.parametrize("sort", ["id", "-title"])
def test_a_search_matching_few_rows_pages_alike_whichever_way_it_is_read(client, auth_headers, admin_user,
                                                                         monkeypatch, sort):
    """On PostgreSQL a search matching few rows through a reference gathers them before sorting
    (query._few_matches); every page, forwards, backwards and last, is what reading in order gives."""
    from best_app.resources import query

    ann = make_user("annfew", name="Ann Fewrows")
    expected = sorted([make_task(f"Job {n % 3}", ann).id for n in range(7)] + [make_task("Fewrows audit").id],
                      reverse=sort.startswith("-"))
    for n in range(5):
        make_task(f"Unrelated {n}")
    url = f"/api/v1/tasks?q=fewrows&limit=3&sort={sort}"
    gathered = _walk(client, auth_headers, url)
    monkeypatch.setattr(query, "FEW", -1)  # never gather: read in order
    db.session.execute(update(Task).values(description=None))  # a write: the cached pages are gone
    db.session.commit()
    assert _walk(client, auth_headers, url) == gathered
    if sort == "id":
        assert gathered[0] == gathered[1] == expected and gathered[2] == expected[-3:]


def test_a_search_through_a_common_reference_is_counted_from_the_counter(client, auth_headers, admin_user,
                                                                         monkeypatch):
    """Cars whose owners match a common term are counted from users.car_count, bounded like any
    count; where a car matches by its own model too, or owners without cars fill the bound, the
    cars themselves are counted. Every answer equals counting the rows."""
    from best_app.resources import counting, query

    owners = [make_user(f"commonname{n}", name="Common Name") for n in range(4)]
    for owner, cars in zip(owners, (3, 0, 2, 1)):
        for n in range(cars):
            make_car(owner, f"Model {n}")
    monkeypatch.setattr(query, "RELATED_IDS", 1)  # four owners: a common term

    def count(url):
        return client.get(url, headers=auth_headers).get_json()["count"]["matching"]

    def counted_by_rows(url):
        with monkeypatch.context() as patch:
            patch.setattr(counting, "count_through_counter", lambda resource, query: None)
            db.session.execute(update(User).values(role="student"))  # a write: no cached count
            db.session.commit()
            return count(url)

    assert count("/api/v1/cars?q=commonname&count=true") == {"value": 6, "exact": True, "estimated": False}
    monkeypatch.setattr(counting, "BOUND", 4)
    db.session.execute(update(User).values(role="teacher"))
    db.session.commit()
    assert count("/api/v1/cars?q=commonname&count=true") == {"value": 4, "exact": False, "estimated": False}
    monkeypatch.setattr(counting, "BOUND", 3)  # four owners read, with 6 cars: more than 3
    assert counted_by_rows("/api/v1/cars?q=commonname&count=true")["value"] == 3
    make_car(admin_user, "Commonname Special")  # matches by its model alone: rows are counted
    assert count("/api/v1/cars?q=commonname&count=true") == counted_by_rows("/api/v1/cars?q=commonname&count=true")
    monkeypatch.setattr(counting, "BOUND", 10)
    make_car(owners[3], "Model 9")
    assert count("/api/v1/cars?q=commonname&count=true") == {"value": 8, "exact": True, "estimated": False}


@pytest.mark.parametrize("moment, before, after", [("0001-01-01T00:00:00+04:29", 0, 1),
                                                    ("9999-12-31T23:59:59-01:00", 1, 0)])
def test_a_moment_beyond_what_utc_can_hold_is_a_bound_like_the_first_or_last(client, auth_headers, admin_user,
                                                                               moment, before, after):
    """Valid date-times (the document says so) whose UTC falls before year 1 or after 9999."""
    make_task("any")
    for name, expected in (("created_before", before), ("created_after", after), ("updated_before", before)):
        response = client.get(f"/api/v1/tasks?{name}={quote(moment)}", headers=auth_headers)
        assert response.status_code == 200, response.get_json()
        assert len(response.get_json()["items"]) == expected, name
