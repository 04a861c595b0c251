"""What a write costs: the statements and cache round trips of POST and PATCH.

These pin down speed-ups that would otherwise stop working without any test
noticing (bench.api measures them; docs/performance.md says why they hold).
"""
from __future__ import annotations

import pytest
from sqlalchemy import event

from best_app.extensions import cache, db
from tests.api.test_crud import MODELS, PATCHES, new_body
from tests.conftest import USING_REDIS, make_user


@pytest.fixture
def owner(app):
    return make_user("owner")


@pytest.fixture
def transcript(app):
    """Every statement the engine runs, and every COMMIT, in order."""
    seen: list[str] = []

    def statement(conn, cursor, text, parameters, context, executemany):
        seen.append(text.split(None, 1)[0].upper())

    def committed(conn):
        seen.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", committed)
    yield seen
    event.remove(db.engine, "before_cursor_execute", statement)
    event.remove(db.engine, "commit", committed)


def _after_last_commit(seen: list[str]) -> list[str]:
    assert "COMMIT" in seen, seen
    return seen[len(seen) - seen[::-1].index("COMMIT"):]


@pytest.mark.parametrize("resource", MODELS)
def test_a_write_answers_from_the_flushed_row(client, auth_headers, owner, transcript, resource):
    """The response is the row as flushed, not read back after the commit."""
    created = client.post(f"/api/v1/{resource}", json=new_body(resource, owner.id), headers=auth_headers)
    assert created.status_code == 201
    assert _after_last_commit(transcript) == []
    transcript.clear()
    item = f"/api/v1/{resource}/{created.get_json()['id']}"
    changed = client.patch(item, json=PATCHES[resource], headers={**auth_headers, "If-Match": '"1"'})
    assert changed.status_code == 200
    assert _after_last_commit(transcript) == []
    db.session.expire_all()
    assert client.get(item, headers=auth_headers).get_json() == changed.get_json()


@pytest.mark.skipif(not USING_REDIS, reason="the generations live in Redis only when it is the cache")
def test_a_write_bumps_every_generation_it_affects_in_redis(client, auth_headers, owner):
    """A task's write bumps the tasks' and the users' generations (users are filtered by
    their tasks), in one pipeline through cachelib's client: were that client or its
    key prefix gone, every write would fail its invalidation and start a new era."""
    from best_app.cache_era import era_clock
    from best_app.caching import _affected, _generation_key

    def generations() -> dict:
        return {name: int(cache.get(_generation_key(name)) or 0) for name in _affected()["tasks"]}

    era = era_clock().current()
    before = generations()
    assert set(before) >= {"tasks", "users"}
    created = client.post("/api/v1/tasks", json={"title": "Bump"}, headers=auth_headers)
    assert created.status_code == 201
    assert generations() == {name: value + 1 for name, value in before.items()}
    era_clock().cache_failed()  # read the era again rather than trust this process's copy
    assert era_clock().current() == era
