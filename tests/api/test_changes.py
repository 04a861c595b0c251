"""Each row's history and the change feed over the API."""
import threading
import time

import pytest
from sqlalchemy import select

from best_app.extensions import db
from best_app.models import Change, Task
from tests.api.conftest import assert_problem
from tests.conftest import USING_POSTGRES, make_car, make_task, make_user


def entries() -> list[Change]:
    db.session.expire_all()
    return db.session.scalars(select(Change).order_by(Change.id)).all()


def test_a_rows_history_newest_first_paged_and_kept_after_deletion(client, auth_headers):
    car_id = make_car(make_user("owner"), "v0").id
    for n in range(1, 6):
        client.patch(f"/api/v1/cars/{car_id}", json={"model": f"v{n}"}, headers=auth_headers)
    client.delete(f"/api/v1/cars/{car_id}", headers=auth_headers)
    first = client.get(f"/api/v1/cars/{car_id}/history?limit=4", headers=auth_headers).get_json()
    assert [e["action"] for e in first["items"]] == ["delete", "update", "update", "update"]
    rest = client.get(f"/api/v1/cars/{car_id}/history?limit=4&cursor={first['next_cursor']}",
                      headers=auth_headers).get_json()
    assert [e["action"] for e in rest["items"]] == ["update", "update", "create"] and rest["next_cursor"] is None
    assert rest["items"][-1]["fields"]["model"] == [None, "v0"]
    assert_problem(client.get("/api/v1/cars/999/history", headers=auth_headers), 404)
    assert_problem(client.get(f"/api/v1/cars/{2**40}/history", headers=auth_headers), 404)  # past any id
    assert_problem(client.get(f"/api/v1/cars/{car_id}/history?cursor=x", headers=auth_headers), 400, "cursor")


def follow(client, headers, cursor=None, **params) -> tuple[list[dict], str]:
    query = {**params, **({"after": cursor} if cursor else {})}
    body = client.get("/api/v1/changes", query_string=query, headers=headers).get_json()
    return body["items"], body["next_cursor"]


def test_the_feed_hands_out_every_change_once_in_order(client, auth_headers):
    seen, cursor = [], None
    make_task("a")
    items, cursor = follow(client, auth_headers, cursor)
    seen += items
    make_car(make_user("carl"))
    make_task("b")
    items, cursor = follow(client, auth_headers, cursor, limit=2)
    seen += items
    items, cursor = follow(client, auth_headers, cursor)
    seen += items
    assert follow(client, auth_headers, cursor)[0] == []  # caught up; the cursor stays valid
    assert [e["id"] for e in seen] == [e.id for e in entries()]
    tasks_only, _ = follow(client, auth_headers, resource="tasks")
    assert [e["resource"] for e in tasks_only] == ["tasks", "tasks"]
    assert_problem(client.get("/api/v1/changes?after=forged", headers=auth_headers), 400, "after")
    assert_problem(client.get("/api/v1/changes?resource=garages", headers=auth_headers), 400, "resource")


@pytest.mark.skipif(not USING_POSTGRES, reason="concurrent writers need PostgreSQL")
@pytest.mark.parametrize("round_", range(3))
def test_a_follower_misses_nothing_when_transactions_commit_out_of_order(app, client, auth_headers, round_):
    """Writers whose transactions commit in another order than they took their ids,
    and a follower polling all along: it sees every change exactly once."""
    stop, seen, errors, commits = threading.Event(), [], [], {}
    # At least one inversion, whatever the scheduling: writer 0 takes its first id,
    # then commits only after writer 1 has taken a later one and committed it.
    held, overtaken = threading.Event(), threading.Event()

    def writer(number: int, hold: float):
        try:
            with app.app_context():
                for step in range(4):
                    if number == 1 and step == 0:
                        held.wait(10)
                    task = Task(title=f"w{number}-{step}")
                    db.session.add(task)
                    db.session.flush()  # the change row exists now, uncommitted
                    if number == 0 and step == 0:
                        held.set()
                        overtaken.wait(10)
                    time.sleep(hold)  # ... while others commit after it
                    db.session.commit()
                    commits[task.id] = time.monotonic()
                    if number == 1 and step == 0:
                        overtaken.set()
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    def follower():
        cursor = None
        with app.app_context():
            poller = app.test_client()
            while not stop.is_set():
                items, cursor = follow(poller, auth_headers, cursor)
                seen.extend(items)
                time.sleep(0.005)
            for _ in range(50):  # drain what committed last
                items, cursor = follow(poller, auth_headers, cursor)
                if not items:
                    break
                seen.extend(items)

    threads = [threading.Thread(target=writer, args=(n, hold)) for n, hold in enumerate((0.15, 0.0, 0.05, 0.0))]
    watcher = threading.Thread(target=follower)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    stop.set()
    watcher.join(30)
    assert errors == []
    committed = [e.id for e in db.session.scalars(select(Change).order_by(Change.txid, Change.id))]
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "a change was handed out twice"
    assert ids == committed, "the follower missed a change or saw them out of order"
    # The test means something only if some entry took its id before another that committed first:
    # a follower keeping "the highest id seen" would have skipped it.
    change_of = {e.row_id: e.id for e in db.session.scalars(select(Change).where(Change.resource == "tasks"))}
    order = sorted(commits, key=commits.get)  # tasks by commit time
    assert any(change_of[a] > change_of[b] for i, a in enumerate(order) for b in order[i + 1:]), \
        "no transaction committed out of id order: the test proved nothing"


def test_a_cursor_older_than_the_pruned_log_is_gone_not_silently_skipped(client, auth_headers, runner):
    from datetime import timedelta

    from sqlalchemy import update

    from best_app.models.base import utcnow

    make_task("a")
    _, cursor = follow(client, auth_headers)  # a follower that read "a", then stopped
    make_task("b")
    db.session.execute(update(Change).values(changed_at=utcnow() - timedelta(days=500)))
    db.session.commit()
    assert runner.invoke(args=["history", "prune", "--older-than", "400d"]).exit_code == 0
    make_task("c")
    body = assert_problem(client.get("/api/v1/changes", query_string={"after": cursor}, headers=auth_headers),
                          410, "pruned")
    assert "pruned_before" in body
    items, _ = follow(client, auth_headers)  # from the start: what is kept
    assert [e["fields"]["title"][1] for e in items] == ["c"]
