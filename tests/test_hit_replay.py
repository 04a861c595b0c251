"""Replayed cache hits (best_app.hit_replay) are exactly what Flask would answer, and as fresh.

A replica that has answered a read from its local copies answers the same
read again without Flask. Each test here counts the requests Flask handled
(a request_started receiver), so a replay that stopped happening fails too.
tests/test_cache_tracking.py runs its cross-replica tests (a write through
one app read at once through another, revoked tokens, a lost tracking
connection, a flushed Redis) with replays too; tests/faults/ run them in
server processes under faults.
"""
from __future__ import annotations

import time

import pytest

from tests.conftest import USING_REDIS, make_task
from tests.test_cache_tracking import Dispatches, other_replica, shared_cache, warm



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
@pytest.mark.parametrize("setting", ["CACHE_REPLAY", "CACHE_TRACKING"])
def test_nothing_is_replayed_or_kept_when_turned_off(app, client, auth_headers, setting):
    """Off, or without pushed generations (which a replay needs), reads go to Flask and no reply is kept."""
    app.config[setting] = False
    task = make_task("t")
    dispatches = Dispatches(app)
    warm(client, auth_headers, f"/api/v1/tasks/{task.id}")
    client.get(f"/api/v1/tasks/{task.id}", headers=auth_headers)
    assert dispatches.count == 4
    assert not app.wsgi_app._replays


@pytest.mark.skipif(USING_REDIS, reason="the in-process cache only (the suite's SQLite run)")
def test_the_embedded_default_replays_nothing(app, client, auth_headers):
    """Without Redis nobody pushes changes made by other processes: every read is Flask's."""
    task = make_task("t")
    dispatches = Dispatches(app)
    for _ in range(5):
        assert client.get(f"/api/v1/tasks/{task.id}", headers=auth_headers).status_code == 200
    assert dispatches.count == 5


def test_the_kept_responses_are_bounded(app):
    from best_app.hit_replay import _ENTRY_OVERHEAD, HitReplay, Replay

    def reply(body=b"", headers=()):
        return Replay("200 OK", headers, body, [], [], 0, float("inf"))

    replays = HitReplay(app, app.wsgi_app, max_bytes=3 * (300 + _ENTRY_OVERHEAD + 10))
    for number in range(10):
        replays._keep(("key", str(number)), reply(b"x" * 300))
    assert list(replays._replays) == [("key", "7"), ("key", "8"), ("key", "9")]  # the oldest went first
    for number in range(100):  # many tiny replies count what every entry costs too
        replays._keep(("tiny", str(number)), reply())
    assert len(replays._replays) == 3 and replays._bytes <= replays.max_bytes
    # The client chooses the key (a long query string) and what the headers echo (Link): both
    # count, so this one pushes out every other entry.
    long_query = "pad=" + "x" * 1000
    replays._keep(("/api/v1/tasks", long_query), reply(headers=(("Link", f"<{long_query}>"),)))
    assert list(replays._replays) == [("/api/v1/tasks", long_query)] and replays._bytes <= replays.max_bytes


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


@shared_cache
def test_a_lost_connection_noticed_before_flask_still_has_the_era_read_again(app, client, auth_headers, control):
    """A replay is checked before Flask makes an app context: the tracking connection found
    lost there must still make the next cached read re-read the era (writes during the
    outage may have started a new one)."""
    import threading

    from best_app.cache_era import era_clock
    from best_app.cache_tracking import generation_tracking

    task = make_task("t")
    warm(client, auth_headers, f"/api/v1/tasks/{task.id}")
    clock = era_clock()
    clock.poll_seconds = 60
    clock.current()
    assert clock.known() is not None
    control.client_kill_filter(_type="pubsub")
    tracking = generation_tracking()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/api/v1/tasks/{task.id}", "QUERY_STRING": "",
               "SCRIPT_NAME": "", "wsgi.url_scheme": "http", "HTTP_HOST": "localhost",
               "HTTP_AUTHORIZATION": auth_headers["Authorization"]}
    replays = app.wsgi_app
    for _ in range(100):  # until the kill has reached the socket
        # The replay check alone, on a thread of its own, as waitress's threads run it: no app context.
        outside = threading.Thread(target=lambda: replays._current(replays._replays[replays._key(environ)]))
        outside.start()
        outside.join()
        if tracking._connection is None:
            break
        time.sleep(0.01)
    assert tracking._connection is None
    assert clock.known() is None  # the era is read again before the cache is trusted
