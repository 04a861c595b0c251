"""Generations pushed by Redis (best_app.cache_tracking) are as fresh as a round trip.

Two apps in this process share PostgreSQL and Redis, each with its own
tracking connection and local copies, as two replicas would: a write through
one is read through the other at once, whatever happens to the tracking
connection. tests/faults/test_tracking.py does the same with server processes.
Each such test runs twice: with every read through Flask, and with the reads
replayed (best_app.hit_replay), checking that the read before the write was a
replay; tests/test_hit_replay.py tests the rest of replaying.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import request_started

from best_app import create_app
from best_app.extensions import db
from best_app.models import ApiToken, User
from best_app.models.base import utcnow
from tests.conftest import USING_POSTGRES, USING_REDIS, make_task, make_user

shared_cache = pytest.mark.skipif(not (USING_POSTGRES and USING_REDIS),
                                 reason="needs PostgreSQL and Redis shared by two apps")


PATHS = pytest.mark.parametrize("replay", [False, True], ids=["through Flask", "replayed"])


@contextmanager
def other_replica(trust_seconds: float | None = None, retry_seconds: float | None = None, replay: bool = True):
    from config import TestConfig

    other = create_app(TestConfig())
    other.config["CACHE_REPLAY"] = replay
    if trust_seconds is not None:
        other.config["CACHE_TRACKING_TRUST_SECONDS"] = trust_seconds
    if retry_seconds is not None:  # reconnect at the next request, to test that too
        other.config["CACHE_RETRY_SECONDS"] = retry_seconds
    with other.app_context():
        yield other.test_client()
        db.session.remove()
    db.session.expire_all()


def read(client, headers, task_id):
    response = client.get(f"/api/v1/tasks/{task_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["title"], response.headers["ETag"], response.headers["X-Cache"]


class Dispatches:
    """How many requests an app's Flask request handling has seen (a replay is not one)."""

    def __init__(self, app):
        self.count = 0
        request_started.connect(self._seen, app, weak=False)

    def _seen(self, sender, **extra):
        self.count += 1


def warm(client, headers, url):
    """Read until Flask has answered from local copies once (the read that is kept)."""
    for _ in range(3):
        response = client.get(url, headers=headers)
        assert response.status_code in (200, 304), response.get_data(as_text=True)
    return response


@contextmanager
def replayed_if(replay: bool, client, headers, url):
    """With `replay`, warm `url` first and check that the read inside the block was a replay."""
    if not replay:
        yield
        return
    dispatches = Dispatches(client.application)
    warm(client, headers, url)
    # The era is read again every CACHE_ERA_POLL_SECONDS, and a read that would read it is
    # not replayed: one falling due between the warm read and this one is no failure.
    clock = client.application.extensions["best_app_era_clock"]
    clock.poll_seconds, poll = 3600, clock.poll_seconds
    before = dispatches.count
    try:
        yield
    finally:
        clock.poll_seconds = poll
    assert dispatches.count == before, "that read was not a replay"


def mget_calls(control) -> int:
    return control.info("commandstats").get("cmdstat_mget", {}).get("calls", 0)


@shared_cache
def test_warm_reads_make_no_round_trip_for_the_generations(client, auth_headers, control):
    task = make_task("t")
    with other_replica(trust_seconds=60) as reader:
        for _ in range(3):
            read(reader, auth_headers, task.id)
        before = mget_calls(control)
        for _ in range(30):
            assert read(reader, auth_headers, task.id)[2] == "HIT"
        assert mget_calls(control) == before


@shared_cache
def test_writes_one_after_another_ask_redis_for_no_generations(client, auth_headers, control):
    """A write drops its tables' generations here (their pushes), not the tokens' one:
    the next write's token check still knows what it needs."""
    from best_app.cache_tracking import generation_tracking

    generation_tracking().trust_seconds = 60
    task = make_task("v0")
    for version in range(1, 4):
        assert client.patch(f"/api/v1/tasks/{task.id}", json={"title": f"v{version}"},
                            headers=auth_headers).status_code == 200
    before = mget_calls(control)
    for version in range(4, 14):
        assert client.patch(f"/api/v1/tasks/{task.id}", json={"title": f"v{version}"},
                            headers=auth_headers).status_code == 200
    assert mget_calls(control) == before
    # A read of a table a write bumped makes its one round trip, as it must.
    assert read(client, auth_headers, task.id)[0] == "v13"
    assert mget_calls(control) == before + 1


@shared_cache
def test_pushes_are_drained_without_polling_the_socket(client, auth_headers, control):
    """Every request after a write has its pushes to read: the socket is asked whether more
    are waiting without redis-py's can_read, a system call that lets go of the GIL."""
    from best_app.cache_tracking import generation_tracking

    tracking = generation_tracking()
    tracking.trust_seconds = 60
    task = make_task("v0")
    assert client.patch(f"/api/v1/tasks/{task.id}", json={"title": "v1"}, headers=auth_headers).status_code == 200
    connection = tracking._connection
    polls, handled = [], []
    can_read, handle = connection.can_read, tracking._handle
    connection.can_read = lambda *args, **kwargs: polls.append(1) or can_read(*args, **kwargs)
    tracking._handle = lambda message: handled.append(message) or handle(message)
    try:
        for version in range(2, 5):
            assert client.patch(f"/api/v1/tasks/{task.id}", json={"title": f"v{version}"},
                                headers=auth_headers).status_code == 200
    finally:
        del connection.can_read, tracking._handle
    assert len(handled) >= 3  # each write's pushes were read by the request after it ...
    assert polls == []  # ... without polling
    assert read(client, auth_headers, task.id)[0] == "v4"


@shared_cache
@PATHS
def test_a_write_through_one_replica_is_read_at_once_through_the_other(client, auth_headers, replay):
    task = make_task("v0")
    with other_replica(trust_seconds=60, replay=replay) as reader:
        statuses = set()
        for version in range(1, 151):
            # The reader's copy of the generation is warm: a missed push would show as a stale HIT.
            with replayed_if(replay, reader, auth_headers, f"/api/v1/tasks/{task.id}"):
                statuses.add(read(reader, auth_headers, task.id)[2])
            written = client.patch(f"/api/v1/tasks/{task.id}", json={"title": f"v{version}"}, headers=auth_headers)
            assert written.status_code == 200
            assert read(reader, auth_headers, task.id)[:2] == (f"v{version}", written.headers["ETag"])
        assert "HIT" in statuses


@shared_cache
@PATHS
def test_a_revoked_token_is_refused_at_once_by_another_replica(app, replay):
    reader_id = make_user("reader").id
    db.session.commit()
    with other_replica(trust_seconds=60, replay=replay) as server:
        for round_ in range(20):
            with app.app_context():  # this app stands for `flask tokens` beside the server
                token, secret = ApiToken.issue(db.session.get(User, reader_id), name=f"round {round_}")
                db.session.commit()
                token_id = token.id
            headers = {"Authorization": f"Bearer {secret}"}
            with replayed_if(replay, server, headers, "/api/v1/users"):
                for _ in range(2):  # the second is answered from the cached token check
                    assert server.get("/api/v1/users", headers=headers).status_code == 200
            with app.app_context():
                db.session.get(ApiToken, token_id).revoked_at = utcnow()
                db.session.commit()
            assert server.get("/api/v1/users", headers=headers).status_code == 401


@shared_cache
@PATHS
@pytest.mark.parametrize("fault", ["kill the tracking connection", "flush Redis"])
def test_no_stale_read_after_the_tracking_connection_or_the_data_is_lost(client, auth_headers, control, fault,
                                                                         replay):
    task = make_task("v0")
    with other_replica(trust_seconds=60, retry_seconds=0, replay=replay) as reader:
        for version in range(1, 21):
            with replayed_if(replay, reader, auth_headers, f"/api/v1/tasks/{task.id}"):
                assert read(reader, auth_headers, task.id)[:2] == (f"v{version - 1}", f'"{version}"')
            if fault == "flush Redis":
                control.flushdb()
            else:
                control.client_kill_filter(_type="pubsub")
            # While nobody tells the reader, the write happens: it must not trust its old copies.
            assert client.patch(f"/api/v1/tasks/{task.id}", json={"title": f"v{version}"},
                                headers=auth_headers).status_code == 200
            assert read(reader, auth_headers, task.id)[:2] == (f"v{version}", f'"{version + 1}"')


@shared_cache
def test_a_value_read_before_a_push_about_it_is_not_kept(app, control):
    """The reply to a round trip can be older than a push read before it is kept."""
    from best_app.cache_tracking import generation_tracking
    from best_app.caching import _generation_keys

    app.config["CACHE_TRACKING_TRUST_SECONDS"] = 60  # trusted throughout, however slow the machine
    tracking = generation_tracking()
    keys = _generation_keys()[1]
    values, ticket = tracking.values(keys)
    assert values is None and ticket is not None
    old = [control.get(app.config["CACHE_KEY_PREFIX"] + key) for key in keys]  # the round trip
    control.incr(app.config["CACHE_KEY_PREFIX"] + keys[-1])  # a write on another replica, meanwhile
    for _ in range(1000):  # until its push has been read (bounded; no clock involved)
        if tracking.values(keys)[1] != ticket:
            break
    tracking.keep(ticket, keys, old)
    assert tracking.values(keys)[0] is None  # the old value of the last key was not kept
    _values, ticket = tracking.values(keys)
    tracking.keep(ticket, keys, [control.get(app.config["CACHE_KEY_PREFIX"] + key) for key in keys])
    assert tracking.values(keys)[0] is not None  # a round trip with nothing pushed meanwhile is kept


def test_the_check_for_waiting_pushes_sees_bytes_and_a_closed_peer():
    import socket

    from best_app.socket_peek import always, waiting

    assert waiting is not always  # the GIL-keeping check is available here (Linux)
    ours, theirs = socket.socketpair()
    try:
        assert not waiting(ours.fileno())
        theirs.sendall(b"+PONG\r\n")
        assert waiting(ours.fileno())
        assert ours.recv(16) == b"+PONG\r\n"  # a peek: the bytes were left for redis-py
        assert not waiting(ours.fileno())
        theirs.close()
        assert waiting(ours.fileno())  # end of file is for its owner to read and report
    finally:
        ours.close()
    assert waiting(ours.fileno())  # a closed descriptor: an error for its owner to raise
