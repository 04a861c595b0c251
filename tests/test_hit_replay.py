"""Replayed cache hits (best_app.hit_replay) are exactly what Flask would answer, and as fresh.

A replica that has answered a read from its local copies answers the same
read again without Flask. Each test here counts the requests Flask handled
(a request_started receiver), so a replay that stopped happening fails too.
The cross-replica tests use two apps on one PostgreSQL and Redis, as
tests/test_cache_tracking.py does; tests/faults/ run the same paths in
server processes under faults.
"""
from __future__ import annotations

import time

import pytest
from flask import request_started

from best_app.extensions import db
from best_app.models import ApiToken, User
from best_app.models.base import utcnow
from tests.conftest import USING_POSTGRES, USING_REDIS, make_task, make_user
from tests.test_cache_tracking import other_replica, read

shared_cache = pytest.mark.skipif(not (USING_POSTGRES and USING_REDIS),
                                   reason="needs PostgreSQL and Redis shared by two apps")


class Dispatches:
    """How many requests an app's Flask request handling has seen."""

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


@shared_cache
def test_a_repeated_read_is_answered_without_flask_and_byte_for_byte_the_same(app, client, auth_headers):
    task = make_task("t")
    dispatches = Dispatches(app)
    for url in (f"/api/v1/tasks/{task.id}", "/api/v1/tasks?limit=5", "/api/v1/tasks?limit=5&count=true"):
        kept = warm(client, auth_headers, url)
        assert kept.headers["X-Cache"] == "HIT"
        before = dispatches.count
        for _ in range(5):
            replayed = client.get(url, headers=auth_headers)
            assert replayed.status_code == 200
            assert replayed.get_data() == kept.get_data()
            assert sorted(replayed.headers.items()) == sorted(kept.headers.items())
        assert dispatches.count == before, url


@shared_cache
def test_only_the_same_request_is_replayed(app, client, auth_headers):
    task = make_task("t")
    url = f"/api/v1/tasks/{task.id}"
    etag = warm(client, auth_headers, url).headers["ETag"]
    dispatches = Dispatches(app)

    # If-None-Match is part of the request: a 304 for it, a 200 without it.
    assert client.get(url, headers={**auth_headers, "If-None-Match": etag}).status_code == 304
    assert client.get(url, headers=auth_headers).status_code == 200
    # Another token's (or no token's) request is Flask's to check.
    assert client.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get(url).status_code == 401
    # A header that is not known to change nothing (X-Request-ID, a cookie) goes to Flask.
    assert client.get(url, headers={**auth_headers, "X-Request-ID": "abc"}).status_code == 200
    # Not a GET: Flask.
    assert client.head(url, headers=auth_headers).status_code == 200
    assert dispatches.count == 5


@shared_cache
def test_a_write_through_another_replica_is_read_at_once(client, auth_headers):
    task = make_task("v0")
    with other_replica(trust_seconds=60) as reader:
        reader_dispatches = Dispatches(reader.application)
        for version in range(1, 101):
            warm(reader, auth_headers, f"/api/v1/tasks/{task.id}")
            before = reader_dispatches.count
            assert read(reader, auth_headers, task.id)[0] == f"v{version - 1}"
            assert reader_dispatches.count == before  # that read was a replay
            written = client.patch(f"/api/v1/tasks/{task.id}", json={"title": f"v{version}"}, headers=auth_headers)
            assert written.status_code == 200
            assert read(reader, auth_headers, task.id)[:2] == (f"v{version}", written.headers["ETag"])


@shared_cache
def test_a_revoked_token_is_refused_at_once(app):
    reader_id = make_user("reader").id
    with other_replica(trust_seconds=60) as server:
        dispatches = Dispatches(server.application)
        for round_ in range(10):
            with app.app_context():
                token, secret = ApiToken.issue(db.session.get(User, reader_id), name=f"round {round_}")
                db.session.commit()
                token_id = token.id
            headers = {"Authorization": f"Bearer {secret}"}
            warm(server, headers, "/api/v1/users")
            before = dispatches.count
            assert server.get("/api/v1/users", headers=headers).status_code == 200
            assert dispatches.count == before
            with app.app_context():
                db.session.get(ApiToken, token_id).revoked_at = utcnow()
                db.session.commit()
            assert server.get("/api/v1/users", headers=headers).status_code == 401


@shared_cache
@pytest.mark.parametrize("fault", ["kill the tracking connection", "flush Redis"])
def test_no_stale_replay_after_the_tracking_connection_or_the_data_is_lost(client, auth_headers, control, fault):
    task = make_task("v0")
    with other_replica(trust_seconds=60, retry_seconds=0) as reader:
        for version in range(1, 11):
            warm(reader, auth_headers, f"/api/v1/tasks/{task.id}")
            if fault == "flush Redis":
                control.flushdb()
            else:
                control.client_kill_filter(_type="pubsub")
            assert client.patch(f"/api/v1/tasks/{task.id}", json={"title": f"v{version}"},
                                headers=auth_headers).status_code == 200
            assert read(reader, auth_headers, task.id)[:2] == (f"v{version}", f'"{version + 1}"')


@shared_cache
def test_a_new_cache_era_stops_replays(app, client, auth_headers):
    """Another replica's write whose invalidation failed records a new era, in the database only."""
    from best_app.cache_era import era_clock
    from best_app.cache_tracking import generation_tracking

    generation_tracking().trust_seconds = 60  # so that only the era can stop the replay
    task = make_task("t")
    url = f"/api/v1/tasks/{task.id}"
    warm(client, auth_headers, url)
    with other_replica() as _writer:
        era_clock().invalidation_failed()
    dispatches = Dispatches(app)
    time.sleep(app.config["CACHE_ERA_POLL_SECONDS"] + 0.1)
    assert client.get(url, headers=auth_headers).headers["X-Cache"] == "MISS"  # keyed by the new era
    assert dispatches.count == 1


@shared_cache
def test_a_replay_lasts_no_longer_than_the_copies_it_was_made_from(app, client, auth_headers):
    from best_app.cache_era import era_clock
    from best_app.cache_tracking import generation_tracking

    app.config["TOKEN_CACHE_SECONDS"] = 1  # the token check's copy is the shortest-lived
    # So that only the expiry can stop the replay:
    generation_tracking().trust_seconds = 60
    era_clock().poll_seconds = 60
    task = make_task("t")
    url = f"/api/v1/tasks/{task.id}"
    warm(client, auth_headers, url)
    dispatches = Dispatches(app)
    client.get(url, headers=auth_headers)
    assert dispatches.count == 0
    time.sleep(1.1)
    client.get(url, headers=auth_headers)
    assert dispatches.count == 1


@shared_cache
def test_nothing_is_replayed_when_turned_off(app, client, auth_headers):
    app.config["CACHE_REPLAY"] = False
    task = make_task("t")
    dispatches = Dispatches(app)
    warm(client, auth_headers, f"/api/v1/tasks/{task.id}")
    client.get(f"/api/v1/tasks/{task.id}", headers=auth_headers)
    assert dispatches.count == 4


def test_the_embedded_default_replays_nothing(app, client, auth_headers):
    """Without Redis nobody pushes changes made by other processes: every read is Flask's."""
    if USING_REDIS:
        pytest.skip("the in-process cache only")
    task = make_task("t")
    dispatches = Dispatches(app)
    for _ in range(5):
        assert client.get(f"/api/v1/tasks/{task.id}", headers=auth_headers).status_code == 200
    assert dispatches.count == 5


def test_the_kept_responses_are_bounded(app):
    from best_app.hit_replay import HitReplay, Replay

    replays = HitReplay(app, app.wsgi_app, max_bytes=1000)
    for number in range(10):
        replays._keep(("key", number), Replay("200 OK", (), b"x" * 300, [], [], 0, float("inf")))
    assert replays._bytes <= 1000
    assert list(replays._replays) == [("key", 7), ("key", 8), ("key", 9)]


@shared_cache
def test_no_replay_while_the_cache_is_skipped_after_a_failure(app, client, auth_headers):
    """A failed round trip elsewhere in this process opens the breaker: Flask reads the database."""
    from best_app.cache_era import era_clock
    from best_app.cache_tracking import generation_tracking
    from best_app.caching import _breaker

    generation_tracking().trust_seconds = 60
    task = make_task("t")
    url = f"/api/v1/tasks/{task.id}"
    warm(client, auth_headers, url)
    _breaker().tripped()
    era_clock().poll_seconds = 60  # the era read again at once, and then known: only the breaker stops it
    era_clock().current()
    dispatches = Dispatches(app)
    assert client.get(url, headers=auth_headers).headers["X-Cache"] == "BYPASS"
    assert dispatches.count == 1


@shared_cache
def test_only_responses_made_of_cached_reads_are_replayed(app, client, auth_headers):
    """The change feed and CSV exports read the database after a cached token check:
    replaying them would serve an old feed, or hold a whole export in memory."""
    task = make_task("v0")
    dispatches = Dispatches(app)
    for url in ("/api/v1/changes", f"/api/v1/tasks/{task.id}/history", "/api/v1/tasks?format=csv"):
        for _ in range(4):
            assert client.get(url, headers=auth_headers).status_code == 200
    assert dispatches.count == 12
    assert client.patch(f"/api/v1/tasks/{task.id}", json={"title": "v1"}, headers=auth_headers).status_code == 200
    assert "v1" in client.get("/api/v1/tasks?format=csv", headers=auth_headers).get_data(as_text=True)
