"""What nginx makes of replicas that stop, restart or answer 503, under load.

- A replica SIGTERMed while writes and reads flow loses no acknowledged write,
  no client sees a 502, and nginx uses it again the moment it is back.
- When every replica answers 503 (here: the health check with Redis down),
  the client gets the app's own 503, and no replica leaves rotation for it.
- A PostgreSQL restart is over for clients as soon as it is over for the
  replicas: no 502 during it, every replica in rotation right after it.

(tests/stack/test_failover.py covers nginx's own pages when every replica
is down.)
"""
from __future__ import annotations

import json
import signal
import time
from collections import Counter

from tests.faults.conftest import Load
from tests.loopback import request, wait_in_rotation

VICTIM = 0


def test_sigterm_under_writes_loses_nothing_and_the_replica_returns_at_once(stack, auth):
    seed = request("POST", f"{stack.url}/api/v1/tasks", headers=auth, body={"title": "seed"})
    assert seed.status == 201

    def make(i):
        if i % 2 == 0:
            return "POST", f"{stack.url}/api/v1/tasks", auth, {"title": f"restart {i}"}
        if i % 4 == 1:
            return "GET", f"{stack.url}/api/v1/tasks/{seed.json()['id']}", auth, None
        return "GET", f"{stack.url}/api/v1/health", {}, None

    victim = stack.replica_urls[VICTIM].removeprefix("http://")
    with Load(make, clients=4, max_requests=1500, max_seconds=90) as load:
        time.sleep(1.0)
        stopped_at = time.monotonic()
        stack.stop_replica(VICTIM, signal.SIGTERM)
        exited_at = time.monotonic()
        time.sleep(1.0)
        restarting_at = time.monotonic()
        stack.start_replica(VICTIM)
        stack.wait_replica(VICTIM)
        # The load is still running: the replica must be back for nginx
        # within a second of answering its own health check, not a
        # fail_timeout later.
        wait_in_rotation(stack, timeout=1.0)
        time.sleep(0.5)

    failed = [(o.method, o.status, o.body[:120]) for o in load.outcomes if o.status not in (200, 201)]
    assert not failed, (len(failed), failed[:5])
    statuses = load.statuses()
    assert statuses[201] > 20 and statuses[200] > 20, statuses
    before = [o for o in load.outcomes if o.at < stopped_at]
    assert any(o.headers.get("X-Upstream", "").endswith(victim) for o in before), "the victim served nothing"
    # Once it has exited it appears only as a refused first try, never as the answer. (Until
    # then it may answer requests on connections that were open: each with Connection: close.)
    down = [o for o in load.outcomes if exited_at < o.at < restarting_at]
    assert len(down) > 20
    assert not any(o.headers.get("X-Upstream", "").split(", ")[-1] == victim for o in down)

    created = [o.body for o in load.outcomes if o.status == 201]
    ids = {json.loads(body)["id"] for body in created}
    assert len(ids) == len(created)
    missing = [task_id for task_id in sorted(ids)
               if request("GET", f"{stack.url}/api/v1/tasks/{task_id}", headers=auth).status != 200]
    assert not missing, f"{len(missing)} acknowledged writes are gone: {missing[:10]}"


def test_every_replica_answering_503_is_passed_on_and_costs_no_replica(stack):
    wait_in_rotation(stack)
    stack.kill_redis()
    try:
        replies = [request("GET", f"{stack.url}/api/v1/health") for _ in range(10)]
    finally:
        stack.restart_redis()
    assert Counter(reply.status for reply in replies) == Counter({503: 10})
    for reply in replies:
        # The app's answer, not nginx's page: its body says what failed.
        assert reply.json()["checks"]["cache"] == "fail"
        # Both replicas were asked before the 503 was given up on.
        assert len(reply.headers["X-Upstream"].split(", ")) == len(stack.replica_urls)
    # Right after, every replica serves again: none was marked down.
    assert request("GET", f"{stack.url}/api/v1/health").status == 200
    wait_in_rotation(stack, timeout=1.0)


def test_postgres_restart_sends_no_502_and_leaves_every_replica_in_rotation(stack, auth):
    wait_in_rotation(stack)

    def make(i):
        return "GET", f"{stack.url}/api/v1/health", {}, None

    with Load(make, clients=4, max_requests=1000, max_seconds=30) as load:
        time.sleep(0.5)
        stack.restart_postgres()
        restarted_at = time.monotonic()
        time.sleep(2.0)
    statuses = load.statuses()
    # What the app answers while the database is away is its own business
    # (see its tests); nginx must pass it on and never make it a 502.
    assert statuses[502] == 0, statuses
    assert not any(isinstance(status, str) for status in statuses), statuses
    # Healthy again within a second of PostgreSQL accepting connections.
    late = Counter(o.status for o in load.outcomes if o.at > restarted_at + 1.0)
    assert late and set(late) == {200}, late
    wait_in_rotation(stack, timeout=1.0)
