"""PostgreSQL restarted (`pg_ctl restart -m fast`) while reads and writes flow.

Every connection is cut and, for a moment, new ones are refused. Requests
caught by it answer 503 with Retry-After (never 500 or 502), nothing that was
acknowledged is lost, and service is back within seconds: the pool's check at
checkout (best_app.db_pool) replaces the dead connections before lending them. Run once through nginx
and once straight at a replica, so the app's part holds on its own.
"""
from __future__ import annotations

import itertools
import json
import threading
import time

import pytest

from tests.faults.conftest import Load
from tests.loopback import request

RECOVERY_SECONDS = 5.0
AFTER_SECONDS = 3.0  # load kept up after the restart returns, to see recovery and steady state


def _json(reply):
    assert reply.status in (200, 201), (reply.status, reply.body[:300])
    return reply.json()


def _mixed_load(base: str, auth: dict, task_ids: list[int], tag: str) -> Load:
    def make(i):
        if i % 3 == 0:
            return "POST", f"{base}/api/v1/tasks", auth, {"title": f"{tag} {i}"}
        if i % 3 == 1:
            return "GET", f"{base}/api/v1/tasks?limit=10", auth, None
        return "GET", f"{base}/api/v1/tasks/{task_ids[i % len(task_ids)]}", auth, None
    return Load(make, clients=4, max_requests=3000, max_seconds=20)


class HealthWatch:
    """Polls a replica's health during the restart, bounded in time."""

    def __init__(self, url: str, max_seconds: float = 15):
        self.url, self.max_seconds = url, max_seconds
        self.replies: list[tuple[float, int, dict]] = []  # (seconds taken, status, checks)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            reply = request("GET", f"{self.url}/api/v1/health", timeout=10)
            self.replies.append((time.monotonic() - started, reply.status, reply.json()["checks"]))
            time.sleep(0.02)

    def __enter__(self) -> "HealthWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(15)


@pytest.mark.parametrize("target", ["replica", "nginx"])
def test_a_restart_answers_503_or_success_and_loses_no_acknowledged_write(stack, auth, target):
    base = stack.replica_urls[0] if target == "replica" else stack.url
    task_ids = [_json(request("POST", f"{base}/api/v1/tasks", headers=auth,
                              body={"title": f"{target} seed {n}"}))["id"] for n in range(4)]
    with HealthWatch(stack.replica_urls[-1]) as health, _mixed_load(base, auth, task_ids, target) as load:
        time.sleep(1.0)
        restart_began = time.monotonic()
        stack.restart_postgres()
        restarted = time.monotonic()
        time.sleep(AFTER_SECONDS)

    outcomes = load.outcomes
    failures = [o for o in outcomes if o.status not in (200, 201)]
    after = [o for o in outcomes if o.at >= restarted]
    first_success = min((o.at for o in after if o.status in (200, 201)), default=None)
    last_failure = max((o.at for o in failures), default=None)
    first_success_s = None if first_success is None else first_success - restarted
    steady_s = 0.0 if last_failure is None or last_failure < restarted else last_failure - restarted
    print(f"\n{target}: pg_ctl restart took {restarted - restart_began:.2f} s; {len(outcomes)} requests "
          f"({sum(o.method == 'POST' for o in outcomes)} POST): {dict(load.statuses())}; "
          f"during the restart {dict(load.statuses(restart_began) - load.statuses(restarted))}; "
          f"first success {first_success_s if first_success_s is None else round(first_success_s, 3)} s "
          f"and last failure {steady_s:.3f} s after the restart returned; "
          f"health: {len(health.replies)} polls, {sum(s == 503 for _, s, _ in health.replies)} × 503, "
          f"slowest {max(t for t, _, _ in health.replies):.3f} s")

    # Only successes, or 503 with Retry-After as problem+json: never 500, 502 or a dropped connection.
    wrong = [(o.method, o.status, o.body[:200]) for o in failures if o.status != 503]
    assert wrong == []
    for outcome in failures:
        headers = {name.lower(): value for name, value in outcome.headers.items()}
        assert headers.get("retry-after", "").isdigit(), outcome
        assert headers.get("content-type", "").startswith("application/problem+json"), outcome
    assert len(outcomes) > 40 and len(after) > 10

    # Recovered: a success soon after the restart returned, and nothing failing after that bound.
    assert first_success_s is not None and first_success_s < RECOVERY_SECONDS
    assert steady_s < RECOVERY_SECONDS

    # The health check said which dependency was down, quickly.
    for seconds, status, checks in health.replies:
        assert seconds < 2.5
        assert (status, checks) == (200, {"database": "ok", "cache": "ok"}) or \
            (status, checks) == (503, {"database": "fail", "cache": "ok"})

    # Every acknowledged write is there, with its data, on every replica and through nginx.
    acknowledged = {}
    for outcome in outcomes:
        if outcome.method == "POST" and outcome.status == 201:
            body = json.loads(outcome.body)
            acknowledged[body["id"]] = body["title"]
    assert acknowledged
    lost = []
    for (task_id, title), where in zip(acknowledged.items(), itertools.cycle([*stack.replica_urls, stack.url])):
        reply = request("GET", f"{where}/api/v1/tasks/{task_id}", headers=auth)
        if reply.status != 200 or reply.json()["title"] != title:
            lost.append((task_id, title, reply.status))
    print(f"{target}: {len(acknowledged)} acknowledged writes read back, {len(lost)} lost")
    assert lost == []
