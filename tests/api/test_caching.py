"""Cached reads: HIT/MISS/BYPASS, and invalidation by every kind of write."""
import pytest
from sqlalchemy import update

from best_app.extensions import db
from best_app.models import Task, User
from tests.api.conftest import count_statements
from tests.conftest import USING_POSTGRES, USING_REDIS, make_task, make_user


def read(client, headers, url):
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.headers["X-Cache"], response.get_json()


@pytest.mark.parametrize("url", ["/api/v1/tasks/{id}", "/api/v1/tasks?limit=5", "/api/v1/tasks?done=false&q=t"])
def test_second_read_is_a_hit_served_without_the_database(client, auth_headers, url):
    task = make_task("t")
    url = url.format(id=task.id)
    assert read(client, auth_headers, url)[0] == "MISS"
    with count_statements() as statements:
        status, _ = read(client, auth_headers, url)
    assert status == "HIT"
    # Only the token check may query (the in-process cache does not cache tokens).
    assert all("api_tokens" in statement for statement in statements)
    if USING_REDIS:
        assert statements == []


def test_an_api_write_invalidates_item_and_lists(client, auth_headers):
    task = make_task("before")
    item, listing = f"/api/v1/tasks/{task.id}", "/api/v1/tasks"
    read(client, auth_headers, item), read(client, auth_headers, listing)
    client.patch(item, json={"title": "after"}, headers=auth_headers)
    assert read(client, auth_headers, item) == ("MISS", read(client, auth_headers, item)[1])
    assert read(client, auth_headers, item)[1]["title"] == "after"
    assert [t["title"] for t in read(client, auth_headers, listing)[1]["items"]] == ["after"]


def test_a_direct_database_write_invalidates(client, auth_headers):
    """An admin page writes through the ORM session, not through the API."""
    task = make_task("before")
    read(client, auth_headers, f"/api/v1/tasks/{task.id}")
    read(client, auth_headers, "/api/v1/tasks")
    row = db.session.get(Task, task.id)
    row.title = "orm write"
    db.session.commit()
    assert read(client, auth_headers, f"/api/v1/tasks/{task.id}")[1]["title"] == "orm write"
    db.session.execute(update(Task).values(title="bulk write"))
    db.session.commit()
    assert read(client, auth_headers, "/api/v1/tasks")[1]["items"][0]["title"] == "bulk write"


def test_a_cli_write_invalidates(client, runner, auth_headers):
    read(client, auth_headers, "/api/v1/users?role=employee")
    result = runner.invoke(args=["users", "create-admin", "--username", "cli_admin", "--email", "c@example.com",
                                 "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    status, page = read(client, auth_headers, "/api/v1/users?role=employee")
    assert status == "MISS" and "cli_admin" in [u["username"] for u in page["items"]]


def test_deleting_a_user_invalidates_their_tasks_and_scoped_lists(client, auth_headers):
    user = make_user("quinn")
    task = make_task("t", assignee=user)
    read(client, auth_headers, f"/api/v1/tasks/{task.id}")
    read(client, auth_headers, f"/api/v1/users/{user.id}/tasks")
    assert client.delete(f"/api/v1/users/{user.id}", headers=auth_headers).status_code == 204
    assert read(client, auth_headers, f"/api/v1/tasks/{task.id}")[1]["assignee_id"] is None
    assert client.get(f"/api/v1/users/{user.id}/tasks", headers=auth_headers).status_code == 404


def test_a_cache_outage_is_bypassed_not_a_failure(app):
    from best_app import create_app
    from config import TestConfig

    config = TestConfig()
    # A real Redis URL where nothing listens: every cache call fails fast.
    config.CACHE_TYPE = "RedisCache"
    config.CACHE_REDIS_URL = "redis://127.0.0.1:1/0"
    broken = create_app(config)
    with broken.app_context():
        if db.engine.dialect.name == "sqlite":
            db.create_all()  # its own in-memory database
        admin = make_user("admin2", is_admin=True)
        from best_app.models import ApiToken

        _token, secret = ApiToken.issue(admin)
        db.session.commit()
        client = broken.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        response = client.get(f"/api/v1/users/{admin.id}", headers=headers)
        assert response.status_code == 200 and response.headers["X-Cache"] == "BYPASS"
        assert client.get("/api/v1/users", headers=headers).headers["X-Cache"] == "BYPASS"
        created = client.post("/api/v1/tasks", json={"title": "still works"}, headers=headers)
        assert created.status_code == 201
        assert db.session.get(User, admin.id) is not None


def test_a_write_inside_a_request_is_seen_by_later_reads_in_it(app):
    """Generations are fetched once per request; an invalidation must refresh them."""
    from best_app.caching import HIT, MISS, cached, invalidate

    with app.test_request_context("/api/v1/tasks"):
        assert cached("tasks", "probe", lambda: {"v": 1}) == ({"v": 1}, MISS)
        assert cached("tasks", "probe", lambda: {"v": 2}) == ({"v": 1}, HIT)
        invalidate("tasks")
        assert cached("tasks", "probe", lambda: {"v": 3}) == ({"v": 3}, MISS)
    with app.test_request_context("/api/v1/tasks"):  # and a new request sees it too
        assert cached("tasks", "probe", lambda: {"v": 4}) == ({"v": 3}, HIT)


def test_local_copies_never_outlive_a_flushed_cache(client, auth_headers):
    """Each process keeps copies of cache hits; after a flush (generations back
    to 0) they must not answer for the new era's keys."""
    from best_app.caching import SKIP_INVALIDATION
    from best_app.extensions import cache

    task = make_task("before")
    url = f"/api/v1/tasks/{task.id}"
    cache.clear()  # generations back to 0 before the reads, so the copies are made under 0
    read(client, auth_headers, url)
    assert read(client, auth_headers, url)[0] == "HIT"
    cache.clear()  # as a Redis restart without persistence would
    # A write that leaves the generation where the flush put it (0).
    db.session.execute(update(Task).values(title="after"), execution_options={SKIP_INVALIDATION: True})
    db.session.commit()
    assert read(client, auth_headers, url)[1]["title"] == "after"


@pytest.mark.skipif(not (USING_POSTGRES and USING_REDIS), reason="needs a database and cache shared by two apps")
def test_a_write_on_one_replica_is_seen_at_once_by_another(app, client, auth_headers):
    from best_app import create_app
    from config import TestConfig

    task = make_task("before")
    url = f"/api/v1/tasks/{task.id}"
    read(client, auth_headers, url)
    assert read(client, auth_headers, url)[0] == "HIT"  # now in this replica's local copies too
    other = create_app(TestConfig())
    with other.app_context():
        response = other.test_client().patch(url, json={"title": "after"}, headers=auth_headers)
        assert response.status_code == 200
        db.session.remove()
    # This test's requests share one long session (a server's would each have
    # their own); forget what it loaded so a miss really reads the database.
    db.session.expire_all()
    status, body = read(client, auth_headers, url)
    assert status == "MISS" and body["title"] == "after"


def test_local_copies_are_bounded_and_expire():
    from best_app.cache_local import LocalCopies

    copies = LocalCopies(size=3)
    for key in "abcd":
        copies.set(key, {"k": key}, 60)
    assert copies.get("a") is None  # the least recently used went first
    assert copies.get("b") == {"k": "b"}
    copies.set("e", {"k": "e"}, 60)  # "b" was just used: "c" goes
    assert copies.get("c") is None and copies.get("b") == {"k": "b"}
    copies.set("old", {"k": "old"}, -1)  # already past its time
    assert copies.get("old") is None


@pytest.mark.skipif(not USING_REDIS, reason="the in-process cache checks tokens in the database")
@pytest.mark.parametrize("url", ["/api/v1/users/{id}", "/api/v1/users?limit=5"])
def test_a_cache_hit_takes_no_database_connection(client, auth_headers, admin_user, url):
    from sqlalchemy import event

    # The era is read from the database every CACHE_ERA_POLL_SECONDS: not
    # during this test, however slow the machine.
    client.application.config["CACHE_ERA_POLL_SECONDS"] = 3600
    client.application.extensions.pop("best_app_era_clock", None)
    url = url.format(id=admin_user.id)
    assert read(client, auth_headers, url)[0] == "MISS"
    db.session.remove()  # give back the connection the miss used
    checkouts = []

    def record(*args):
        checkouts.append(args)

    event.listen(db.engine, "checkout", record)
    try:
        status, _ = read(client, auth_headers, url)
    finally:
        event.remove(db.engine, "checkout", record)
    assert status == "HIT" and checkouts == []


def test_a_full_cache_never_forgets_a_write(client, auth_headers):
    """The in-process cache evicts entries when full (500 by default), oldest
    expiry first; the generations must survive that, or an old generation's
    entries would become current again."""
    user = make_user("bob")
    url = f"/api/v1/users/{user.id}"
    for i in range(520):  # fill the cache past its limit
        client.get(f"/api/v1/cars?q=a{i}", headers=auth_headers)
    for n in range(20):
        client.get(f"/api/v1/cars?q=b{n}", headers=auth_headers)
        read(client, auth_headers, url)
        assert client.patch(url, json={"name": f"N{n}"}, headers=auth_headers).status_code == 200
        client.get(f"/api/v1/cars?q=c{n}", headers=auth_headers)
        assert read(client, auth_headers, url)[1]["name"] == f"N{n}"


def test_the_breaker_skips_the_cache_briefly_after_a_failure():
    import time

    from best_app.cache_local import Breaker, CacheUnavailable

    breaker = Breaker(seconds=0.2)
    breaker.check()  # closed: the cache is tried
    breaker.tripped()
    with pytest.raises(CacheUnavailable):
        breaker.check()
    time.sleep(0.25)
    breaker.check()  # tried again after the pause


def test_an_unreachable_cache_is_tried_once_then_skipped(app, client, auth_headers):
    """With Redis unreachable, a read waits for the cache once, not on every call."""
    from best_app import caching
    from best_app.cache_local import CacheUnavailable

    if not USING_REDIS:
        pytest.skip("the in-process cache cannot fail")
    client.get("/api/v1/tasks", headers=auth_headers)
    caching._breaker().tripped()  # as a failed round trip would
    with app.test_request_context("/api/v1/tasks"):
        with pytest.raises(CacheUnavailable):
            caching._generations()
        assert caching.cached("tasks", "probe", lambda: {"v": 1}) == ({"v": 1}, caching.BYPASS)


def test_every_table_invalidates_itself_and_the_tables_that_reference_it(app):
    """Derived from the schema, so a new model is covered without being listed anywhere."""
    from best_app import caching

    for table in db.metadata.sorted_tables:
        referrers = {key.parent.table.name for other in db.metadata.sorted_tables
                     for key in other.foreign_keys if key.column.table is table}
        with app.test_request_context("/api/v1/probe"):
            before = {t.name: caching._generation(t.name) for t in db.metadata.sorted_tables}
            caching.invalidate_tables(table.name)
            after = {t.name: caching._generation(t.name) for t in db.metadata.sorted_tables}
        changed = {name for name in before if after[name] != before[name]}
        parents = {key.column.table.name for key in table.foreign_keys}
        assert {table.name} | referrers | parents <= changed, table.name


def test_a_child_write_invalidates_the_parents_lists_that_filter_on_it(client, auth_headers):
    """users?has_cars=... depends on cars: adding a car must not leave the cached list stale."""
    lone = make_user("lone")
    url = "/api/v1/users?has_cars=false"
    assert lone.id in [u["id"] for u in read(client, auth_headers, url)[1]["items"]]
    assert read(client, auth_headers, url)[0] == "HIT"
    assert client.post("/api/v1/cars", json={"model": "Kia", "owner_id": lone.id}, headers=auth_headers).status_code == 201
    status, page = read(client, auth_headers, url)
    assert status == "MISS" and lone.id not in [u["id"] for u in page["items"]]


@pytest.mark.skipif(not USING_REDIS, reason="entries shared in Redis")
def test_a_shared_entry_is_written_as_cachelib_writes_it(app, client, auth_headers, control):
    """Cached reads GET and SET on the thread's own connection, not through cachelib: the
    entry must still be cachelib's (prefix, serializer, the default expiry), so that the
    two can read each other's and Redis drops it in time."""
    from best_app.extensions import cache

    make_task("t")
    assert read(client, auth_headers, "/api/v1/tasks?limit=5")[0] == "MISS"
    prefix = app.config["CACHE_KEY_PREFIX"]
    [key] = [key.decode() for key in control.scan_iter(prefix + "*list:*")]
    assert 0 < control.ttl(key) <= app.config["CACHE_DEFAULT_TIMEOUT"]
    stored = cache.get(key[len(prefix):])
    assert stored["items"][0]["title"] == "t"

    # ...and an entry cachelib wrote is what a cached read serves (on a replica without
    # a local copy of its own).
    cache.set(key[len(prefix):], {**stored, "items": [{**stored["items"][0], "title": "by cachelib"}]})
    from best_app import create_app
    from config import TestConfig

    replica = create_app(TestConfig())
    status, page = read(replica.test_client(), auth_headers, "/api/v1/tasks?limit=5")
    assert (status, page["items"][0]["title"]) == ("HIT", "by cachelib")
