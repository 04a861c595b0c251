"""ETags: conditional reads (If-None-Match) and lost-update protection (If-Match)."""
import pytest

from best_app.extensions import db
from best_app.models import Task
from tests.api.conftest import assert_problem
from tests.conftest import make_task


def test_if_none_match_gives_304_until_the_row_changes(client, auth_headers):
    task = make_task("t")
    url = f"/api/v1/tasks/{task.id}"
    first = client.get(url, headers=auth_headers)
    etag = first.headers["ETag"]
    assert etag == '"1"'
    again = client.get(url, headers={**auth_headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    for matching in (f"W/{etag}", f'"0", {etag}', "*"):
        assert client.get(url, headers={**auth_headers, "If-None-Match": matching}).status_code == 304
    assert client.get(url, headers={**auth_headers, "If-None-Match": '"0"'}).status_code == 200
    client.patch(url, json={"done": True}, headers=auth_headers)
    changed = client.get(url, headers={**auth_headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'


@pytest.mark.parametrize("if_match", ['"1"', 'W/"2"', '"x"'])
@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_stale_if_match_is_412_and_writes_nothing(client, auth_headers, method, if_match):
    task = make_task("original")
    url = f"/api/v1/tasks/{task.id}"
    client.patch(url, json={"done": True}, headers=auth_headers)  # now version 2
    response = getattr(client, method)(url, json={"title": "mine"}, headers={**auth_headers, "If-Match": if_match})
    assert assert_problem(response, 412)["current_version"] == 2
    db.session.expire_all()
    row = db.session.get(Task, task.id)
    assert row is not None and row.title == "original" and row.version == 2


@pytest.mark.parametrize("if_match", ['"2"', "*", '"1", "2"'])
def test_a_current_if_match_writes(client, auth_headers, if_match):
    task = make_task("t")
    url = f"/api/v1/tasks/{task.id}"
    client.patch(url, json={"done": True}, headers=auth_headers)
    response = client.patch(url, json={"title": "new"}, headers={**auth_headers, "If-Match": if_match})
    assert response.status_code == 200 and response.get_json()["version"] == 3


def test_a_write_racing_another_is_412(client, auth_headers):
    """The row changes between our read and our UPDATE: the version check catches it."""
    from sqlalchemy import event

    if db.engine.dialect.name == "sqlite":
        pytest.skip("in-memory SQLite has one shared connection; this runs on PostgreSQL")
    task = make_task("t")
    fired = []

    def concurrent_write(session, flush_context, instances):
        if fired:
            return
        fired.append(True)
        with db.engine.begin() as other:  # another connection, like another request
            other.execute(db.update(Task).where(Task.id == task.id).values(title="theirs", version=Task.version + 1))

    event.listen(db.session, "before_flush", concurrent_write)
    try:
        response = client.patch(f"/api/v1/tasks/{task.id}", json={"title": "mine"}, headers=auth_headers)
    finally:
        event.remove(db.session, "before_flush", concurrent_write)
    assert fired
    assert_problem(response, 412)
    db.session.expire_all()
    assert db.session.get(Task, task.id).title == "theirs"
