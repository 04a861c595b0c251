"""The API's speed-ups that could stop working, or start giving other answers,
without any other test noticing: what a write runs after its commit, its cache
round trips, a reference it need not look up, and the list pages' own
serialisation. bench.api measures them; docs/performance.md says why they hold.
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
        seen.append(" ".join(text.split()))

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


def test_an_edit_that_keeps_a_reference_does_not_look_its_user_up(client, auth_headers, owner, transcript):
    """The row's own reference is vouched for by its foreign key; a changed one is still checked."""
    task = client.post("/api/v1/tasks", json={"title": "Mine", "assignee_id": owner.id}, headers=auth_headers)
    item = f"/api/v1/tasks/{task.get_json()['id']}"
    db.session.expire_all()
    transcript.clear()
    assert client.patch(item, json={"done": True}, headers=auth_headers).status_code == 200
    assert not [statement for statement in transcript if " FROM users WHERE users.id = " in statement]
    missing = client.patch(item, json={"assignee_id": owner.id + 1000}, headers=auth_headers)
    assert missing.status_code == 422 and "assignee_id" in missing.get_json()["errors"]


@pytest.mark.parametrize("resource", MODELS)
def test_a_list_page_shows_each_row_as_its_item_read_does(client, auth_headers, owner, resource):
    """Lists serialise plain rows by position (Resource.serialize_rows), items and
    writes the ORM's objects (Resource.serialize): both must give the same JSON."""
    created = client.post(f"/api/v1/{resource}", json=new_body(resource, owner.id), headers=auth_headers)
    row_id = created.get_json()["id"]
    page = client.get(f"/api/v1/{resource}?limit=500", headers=auth_headers).get_json()
    listed = next(item for item in page["items"] if item["id"] == row_id)
    assert listed == client.get(f"/api/v1/{resource}/{row_id}", headers=auth_headers).get_json()
    assert listed == created.get_json()


def test_flask_still_asks_ensure_sync_for_every_hook_and_view(app, client, auth_headers, monkeypatch):
    """BestFlask remembers which plain functions need no wrapping; that saves time only
    while Flask goes through ensure_sync, and is right only while async views still work."""
    import asyncio

    from best_app.app_class import BestFlask

    asked = []
    original = BestFlask.ensure_sync
    monkeypatch.setattr(BestFlask, "ensure_sync", lambda self, func: asked.append(func) or original(self, func))
    assert client.get("/api/v1/users", headers=auth_headers).status_code == 200
    assert any(getattr(func, "__name__", "") == "require_token" for func in asked)

    async def coroutine():
        await asyncio.sleep(0)
        return 1

    wrapped = []
    monkeypatch.setattr(BestFlask, "async_to_sync", lambda self, func: wrapped.append(func) or (lambda: 1))
    assert app.ensure_sync(coroutine) is not coroutine and app.ensure_sync(coroutine) is not coroutine
    assert wrapped == [coroutine, coroutine]  # never remembered as plain


def test_the_plain_accept_headers_are_those_werkzeug_answers_json_for(app):
    """wants_csv skips parsing these Accept headers (and none): werkzeug must agree."""
    from best_app.api.csv_routes import MEDIA_TYPE, PLAIN_ACCEPTS, wants_csv

    for accept in [*PLAIN_ACCEPTS, None, ""]:
        headers = {} if accept is None else {"Accept": accept}
        with app.test_request_context("/api/v1/users", headers=headers) as context:
            assert context.request.accept_mimetypes.best_match(["application/json", MEDIA_TYPE]) != MEDIA_TYPE
            assert wants_csv() is False
    with app.test_request_context("/api/v1/users", headers={"Accept": "text/*"}):
        assert wants_csv() is True


@pytest.mark.parametrize("query", ["", "limit=2", "limit=2&cursor=old", "q=a+b%26c%3D%C3%A9&sort=-id&sort=id&limit=2"])
def test_page_links_are_urlencoded_whole(app, query):
    """page_links encodes the other arguments once and appends each cursor: the same
    text as encoding every link's arguments whole."""
    from urllib.parse import urlencode

    from best_app.api.crud import page_links

    cursors = {"prev_cursor": "p/+= ü", "next_cursor": "n-_.~", "last_cursor": "l&x"}
    with app.test_request_context(f"/api/v1/users?{query}") as context:
        args = [(name, value) for name, value in context.request.args.items(multi=True) if name != "cursor"]
        expected = []
        for rel, cursor in [("first", None), ("prev", cursors["prev_cursor"]), ("next", cursors["next_cursor"]),
                            ("last", cursors["last_cursor"])]:
            encoded = urlencode(args + ([("cursor", cursor)] if cursor else []))
            expected.append(f'</api/v1/users{"?" if encoded else ""}{encoded}>; rel="{rel}"')
        assert page_links(cursors) == ", ".join(expected)


@pytest.mark.parametrize("resource", MODELS)
def test_a_write_reads_its_row_with_a_statement_built_once(client, auth_headers, owner, resource, monkeypatch):
    """Session.get builds its statement anew on every call (and SQLAlchemy then walks it
    for its cache key); the resource keeps one, its id a parameter."""
    from sqlalchemy.orm import Session

    from best_app.resources import REGISTRY

    created = client.post(f"/api/v1/{resource}", json=new_body(resource, owner.id), headers=auth_headers)
    assert created.status_code == 201, created.json
    row_id = created.json["id"]
    kept = REGISTRY[resource]._by_id
    gets = []
    session_get = Session.get
    monkeypatch.setattr(Session, "get", lambda self, model, *args, **kwargs: gets.append(model.__tablename__)
                        or session_get(self, model, *args, **kwargs))
    response = client.patch(f"/api/v1/{resource}/{row_id}", json=PATCHES[resource], headers=auth_headers)
    assert response.status_code == 200, response.json
    assert resource not in gets
    assert REGISTRY[resource]._by_id is kept
    assert client.patch(f"/api/v1/{resource}/{2**31 - 2}", json=PATCHES[resource],
                        headers=auth_headers).status_code == 404
