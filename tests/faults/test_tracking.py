"""Generations pushed by Redis, between server processes: a write through one
replica is read through the other at once, a token revoked by `flask tokens
revoke` is refused at once, and Redis restarted under them leaves nothing stale.
"""
from __future__ import annotations

import time

from tests.loopback import request


def _json(reply):
    assert reply.status in (200, 201), (reply.status, reply.body[:300])
    return reply.json()


def _read(base, task_id, auth):
    reply = request("GET", f"{base}/api/v1/tasks/{task_id}", headers=auth)
    return _json(reply)["title"], reply.headers["ETag"], reply.headers["X-Cache"]


def _write_then_read_elsewhere(stack, auth, task_id, rounds: int, label: str) -> set:
    """PATCH through one replica, then GET through the other at once; the X-Cache statuses seen."""
    statuses = set()
    for n in range(rounds):
        writer, reader = stack.replica_urls[n % 2], stack.replica_urls[(n + 1) % 2]
        for _ in range(3):  # the reader's copies are warm, and its third read is replayed (hit_replay)
            statuses.add(_read(reader, task_id, auth)[2])
        written = request("PATCH", f"{writer}/api/v1/tasks/{task_id}", headers=auth,
                          body={"title": f"{label} {n}"})
        title, etag, status = _read(reader, task_id, auth)
        assert (title, etag) == (f"{label} {n}", written.headers["ETag"]), (
            f"stale read ({status}) via {reader} after a write via {writer}; the replicas' cache warnings: "
            + "".join(line for name in ("web1", "web2") for line in stack.log(name).splitlines(True)
                      if "cache" in line.lower())[-3000:])
    return statuses


def test_a_write_through_one_replica_is_read_through_the_other_at_once(stack, auth):
    task_id = _json(request("POST", f"{stack.url}/api/v1/tasks", headers=auth, body={"title": "start"}))["id"]
    assert "HIT" in _write_then_read_elsewhere(stack, auth, task_id, 200, "write")


def test_a_revoked_token_is_refused_at_once_by_every_replica(stack, auth):
    for n in range(3):
        secret = stack.flask("tokens", "create", "--user", "admin", "--name", f"revoked {n}").strip()
        listing = stack.flask("tokens", "list").splitlines()
        token_id = max(int(line.split("\t")[0]) for line in listing if f"\tadmin\trevoked {n}\t" in line)
        headers = {"Authorization": f"Bearer {secret}"}
        for base in stack.replica_urls * 2:  # the second round is answered from the cached token check
            assert request("GET", f"{base}/api/v1/users?limit=1", headers=headers).status == 200
        stack.flask("tokens", "revoke", str(token_id))
        for base in stack.replica_urls:
            assert request("GET", f"{base}/api/v1/users?limit=1", headers=headers).status == 401


def test_redis_restarted_under_the_replicas_leaves_nothing_stale(stack, auth):
    task_id = _json(request("POST", f"{stack.url}/api/v1/tasks", headers=auth, body={"title": "start"}))["id"]
    _write_then_read_elsewhere(stack, auth, task_id, 10, "before")
    stack.kill_redis()
    during = _json(request("PATCH", f"{stack.replica_urls[0]}/api/v1/tasks/{task_id}", headers=auth,
                           body={"title": "during"}))
    assert _read(stack.replica_urls[1], task_id, auth)[0] == during["title"]
    stack.restart_redis()
    # At once, and while the replicas reconnect: never what was cached before.
    deadline = time.monotonic() + 5
    statuses = set()
    while time.monotonic() < deadline or "HIT" not in statuses:
        for base in stack.replica_urls:
            title, _etag, status = _read(base, task_id, auth)
            assert title == "during", (base, status)
            statuses.add(status)
        if time.monotonic() > deadline + 30:
            break
    assert "HIT" in statuses, statuses
    assert "HIT" in _write_then_read_elsewhere(stack, auth, task_id, 50, "after")
