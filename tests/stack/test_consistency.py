"""A write through one replica, then reads through every other one (directly
and through nginx), never return the old value, even when each replica has
the old value in the shared Redis cache."""
import itertools

from tests.stack.conftest import request


def read_title(base: str, task_id: int, auth: dict) -> tuple[str, str]:
    reply = request("GET", f"{base}/api/v1/tasks/{task_id}", headers=auth)
    assert reply.status == 200, reply.body
    return reply.json()["title"], reply.headers["X-Cache"]


def test_writes_are_seen_by_every_replica_at_once(stack, auth):
    created = request("POST", f"{stack.url}/api/v1/tasks", headers=auth, body={"title": "v0"})
    assert created.status == 201, created.body
    task_id = created.json()["id"]
    bases = stack.replica_urls + [stack.url]
    cache_statuses = set()
    for version, writer in zip(range(1, 13), itertools.cycle(stack.replica_urls)):
        # Warm the cache with the current value on every path first, so a
        # missed invalidation would show as a stale HIT.
        for base in bases:
            _title, status = read_title(base, task_id, auth)
            cache_statuses.add(status)
        patched = request("PATCH", f"{writer}/api/v1/tasks/{task_id}", headers=auth,
                          body={"title": f"v{version}"})
        assert patched.status == 200, patched.body
        for base in bases:
            assert read_title(base, task_id, auth)[0] == f"v{version}", f"stale read via {base} after write via {writer}"
    assert "HIT" in cache_statuses, "the reads never hit the cache, so invalidation was not exercised"


def test_lists_are_fresh_on_every_replica_after_a_write(stack, auth):
    marker = "consistency-list-probe"
    for base in stack.replica_urls:
        assert request("GET", f"{base}/api/v1/tasks?q={marker}", headers=auth).json()["items"] == []
    created = request("POST", f"{stack.replica_urls[0]}/api/v1/tasks", headers=auth, body={"title": marker})
    assert created.status == 201, created.body
    for base in stack.replica_urls[1:] + [stack.url]:
        items = request("GET", f"{base}/api/v1/tasks?q={marker}", headers=auth).json()["items"]
        assert [item["id"] for item in items] == [created.json()["id"]], base
    deleted = request("DELETE", f"{stack.replica_urls[-1]}/api/v1/tasks/{created.json()['id']}", headers=auth)
    assert deleted.status == 204
    for base in stack.replica_urls[:-1] + [stack.url]:
        assert request("GET", f"{base}/api/v1/tasks?q={marker}", headers=auth).json()["items"] == [], base
