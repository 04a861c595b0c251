"""Redis paused or killed while requests flow through nginx to two replicas.

During the outage nothing fails (reads and writes fall back to PostgreSQL).
After it, every replica and nginx serve what was written during it, never the
entries cached before it, and a token revoked (by `flask tokens revoke`, a
process of its own) or an admin demoted during it is refused at once.
"""
from __future__ import annotations

import itertools
import time

import pytest

from tests.faults.conftest import Load
from tests.loopback import request

OUTAGE_SECONDS = 3.0


def _json(reply):
    assert reply.status in (200, 201), (reply.status, reply.body[:300])
    return reply.json()


@pytest.fixture(scope="module")
def people(stack, auth):
    """A reader's token to revoke and a second admin's token to demote, used once before the outage."""
    reader = _json(request("POST", f"{stack.url}/api/v1/users", headers=auth,
                           body={"username": "reader", "email": "reader@example.com", "role": "student"}))
    deputy = _json(request("POST", f"{stack.url}/api/v1/users", headers=auth,
                           body={"username": "deputy", "email": "deputy@example.com", "is_admin": True,
                                 "token_only": True}))
    return {"reader": reader["id"], "deputy": deputy["id"]}


def _token_for(stack, username: str) -> tuple[int, dict]:
    secret = stack.flask("tokens", "create", "--user", username, "--name", "outage").strip()
    listing = stack.flask("tokens", "list").splitlines()
    token_id = max(int(line.split("\t")[0]) for line in listing if f"\t{username}\t" in line)
    return token_id, {"Authorization": f"Bearer {secret}"}


def _mixed_load(stack, auth, task_ids):
    def make(i):
        if i % 5 == 4:
            return "POST", f"{stack.url}/api/v1/tasks", auth, {"title": f"load {i}"}
        if i % 5 == 3:
            return "GET", f"{stack.url}/api/v1/tasks?limit=10", auth, None
        return "GET", f"{stack.url}/api/v1/tasks/{task_ids[i % len(task_ids)]}", auth, None
    return Load(make, clients=4, max_requests=2000, max_seconds=OUTAGE_SECONDS + 10)


def _warm(stack, urls_and_headers):
    for base in [*stack.replica_urls, stack.url]:
        for path, headers in urls_and_headers:
            for _ in range(2):
                request("GET", f"{base}{path}", headers=headers)


def _outage(stack, kind: str, auth, during):
    """Run `during()` inside an outage of the given kind, under mixed load; returns the load."""
    task_ids = [_json(request("POST", f"{stack.url}/api/v1/tasks", headers=auth,
                              body={"title": f"task {n}"}))["id"] for n in range(4)]
    _warm(stack, [(f"/api/v1/tasks/{t}", auth) for t in task_ids] + [("/api/v1/tasks?limit=10", auth)])
    with _mixed_load(stack, auth, task_ids) as load:
        time.sleep(0.5)
        if kind == "pause":
            stack.pause_redis()
        else:
            stack.kill_redis()
        started = time.monotonic()
        try:
            during(task_ids)
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
        finally:
            if kind == "pause":
                stack.resume_redis()
            else:
                stack.restart_redis()
        time.sleep(0.5)
    return load, task_ids


@pytest.mark.parametrize("kind", ["pause", "kill"])
def test_an_outage_fails_nothing_and_leaves_nothing_stale(stack, auth, people, kind):
    reader_id, reader = _token_for(stack, "reader")
    _deputy_id, deputy = _token_for(stack, "deputy")
    _warm(stack, [("/api/v1/users?limit=5", reader), ("/api/v1/users?limit=5", deputy)])
    written = {}

    def during(task_ids):
        for n, task_id in enumerate(task_ids):
            reply = request("PATCH", f"{stack.url}/api/v1/tasks/{task_id}", headers=auth,
                            body={"title": f"written during the {kind} {n}"})
            written[task_id] = (_json(reply)["title"], reply.headers["ETag"])
        stack.flask("tokens", "revoke", str(reader_id))
        _json(request("PATCH", f"{stack.url}/api/v1/users/{people['deputy']}", headers=auth,
                      body={"is_admin": False}))

    load, task_ids = _outage(stack, kind, auth, during)
    failures = [(o.method, o.status) for o in load.outcomes if o.status not in (200, 201)]
    print(f"\n{kind}: {len(load.outcomes)} requests during and around a {OUTAGE_SECONDS:.0f} s outage, "
          f"{len(failures)} failed: {load.statuses()}")
    assert len(load.outcomes) > 20 and failures == []

    # At once, on every replica and through nginx: the writes, never the old entries.
    stale = []
    for base, _round in itertools.product([*stack.replica_urls, stack.url], range(2)):
        for task_id, (title, etag) in written.items():
            reply = request("GET", f"{base}/api/v1/tasks/{task_id}", headers=auth)
            if (reply.json()["title"], reply.headers["ETag"]) != (title, etag):
                stale.append((base, task_id, reply.json()["title"], reply.headers.get("X-Cache")))
        assert request("GET", f"{base}/api/v1/users?limit=5", headers=reader).status == 401
        refused = request("POST", f"{base}/api/v1/tasks", headers=deputy, body={"title": "not any more"})
        assert refused.status == 403, refused.body
    assert stale == []
    # The deputy is an admin again for the next outage.
    _json(request("PATCH", f"{stack.url}/api/v1/users/{people['deputy']}", headers=auth,
                  body={"is_admin": True, "token_only": True}))
