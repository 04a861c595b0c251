"""Writes made while Redis is unreachable are never served stale once it is back.

Redis is paused for everyone with CLIENT PAUSE (as a stalled or overloaded
server would be: connections stay open, nothing answers), while another app,
standing for another replica or a `flask` command, writes through the same
PostgreSQL. Its invalidation fails; the tests check that this replica, which
had the old values cached in Redis and in its local copies, never serves
them after the pause, nor honours a token revoked or a user demoted during it.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager

import pytest
import redis

from best_app import create_app
from best_app.extensions import db
from best_app.models import ApiToken, Task, User
from best_app.models.base import utcnow
from tests.conftest import USING_POSTGRES, USING_REDIS, make_task, make_user

pytestmark = pytest.mark.skipif(not (USING_POSTGRES and USING_REDIS),
                                reason="needs PostgreSQL and Redis shared by two apps")

PAUSE_MS = 2500  # long enough for a write to time out on the cache (0.5 s per call) inside it


@contextmanager
def redis_paused():
    """Pause every Redis client for PAUSE_MS; returns once the pause is over."""
    control = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
    control.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
    ends = time.monotonic() + PAUSE_MS / 1000
    try:
        yield ends
        assert time.monotonic() < ends, "the write took longer than the pause: the test proved nothing"
    finally:
        time.sleep(max(0.0, ends - time.monotonic()) + 0.05)
        control.ping()
        control.close()


@contextmanager
def other_replica():
    """A second app on the same database and Redis, with its own process state."""
    from config import TestConfig

    other = create_app(TestConfig())
    with other.app_context():
        yield other.test_client()
        db.session.remove()
    db.session.expire_all()  # the test's long session must not answer from what it loaded


def read_task(client, headers, task_id):
    response = client.get(f"/api/v1/tasks/{task_id}", headers=headers)
    assert response.status_code == 200
    return response.headers["X-Cache"], response.get_json()["title"], response.headers["ETag"]


def warm(client, headers, task_id):
    read_task(client, headers, task_id)
    assert read_task(client, headers, task_id)[0] == "HIT"


def test_a_write_during_an_outage_is_seen_after_it_by_an_idle_replica(app, client, auth_headers):
    task = make_task("before")
    warm(client, auth_headers, task.id)
    with redis_paused(), other_replica() as writer:
        response = writer.patch(f"/api/v1/tasks/{task.id}", json={"title": "after"}, headers=auth_headers)
        assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    time.sleep(app.config["CACHE_ERA_POLL_SECONDS"])  # this replica was idle meanwhile
    status, title, etag = read_task(client, auth_headers, task.id)
    assert (title, etag) == ("after", '"2"'), status


def test_a_replica_that_saw_the_outage_rechecks_before_trusting_the_cache(app, client, auth_headers):
    # Only the recheck after its own failed round trip can save this replica:
    # its periodic look at the era is an hour away.
    app.config["CACHE_ERA_POLL_SECONDS"] = 3600
    app.extensions.pop("best_app_era_clock", None)
    task = make_task("before")
    warm(client, auth_headers, task.id)
    with redis_paused(), other_replica() as writer:
        assert writer.patch(f"/api/v1/tasks/{task.id}", json={"title": "after"},
                            headers=auth_headers).status_code == 200
        assert read_task(client, auth_headers, task.id)[:2] == ("BYPASS", "after")
    assert read_task(client, auth_headers, task.id)[1:] == ("after", '"2"')
    assert read_task(client, auth_headers, task.id)[0] == "HIT"  # and the cache is used again


def test_a_token_revoked_during_an_outage_is_refused_after_it(app, client):
    reader = make_user("reader")
    token, secret = ApiToken.issue(reader, name="soon revoked")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/users", headers=headers).status_code == 200  # now cached
    with redis_paused(), other_replica():
        db.session.get(ApiToken, token.id).revoked_at = utcnow()
        db.session.commit()
    time.sleep(app.config["CACHE_ERA_POLL_SECONDS"])
    for _ in range(3):
        assert client.get("/api/v1/users", headers=headers).status_code == 401


def test_an_admin_demoted_during_an_outage_cannot_write_after_it(app, client):
    admin = make_user("boss", is_admin=True)
    _token, secret = ApiToken.issue(admin, name="admin script")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post("/api/v1/tasks", json={"title": "allowed"}, headers=headers).status_code == 201
    with redis_paused(), other_replica():
        db.session.get(User, admin.id).is_admin = False
        db.session.commit()
    time.sleep(app.config["CACHE_ERA_POLL_SECONDS"])
    response = client.post("/api/v1/tasks", json={"title": "refused"}, headers=headers)
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(Task).where(Task.title == "refused")) == 0
