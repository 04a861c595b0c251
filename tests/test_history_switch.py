"""HISTORY_ENABLED: off, no write path records anything; on (the default), they all do."""
import pytest
from sqlalchemy import func, select, update

from best_app.extensions import db
from best_app.history import HISTORY_SOURCE
from best_app.models import Change, Task
from config import Config, ConfigError
from tests.conftest import make_task


def logged() -> int:
    return db.session.scalar(select(func.count()).select_from(Change))


def write_every_way(client, auth_headers) -> None:
    """An API create and update (flushed by the ORM) and a bulk UPDATE statement."""
    task_id = client.post("/api/v1/tasks", json={"title": "Plan"}, headers=auth_headers).get_json()["id"]
    assert client.patch(f"/api/v1/tasks/{task_id}", json={"done": True}, headers=auth_headers).status_code == 200
    db.session.execute(update(Task).where(Task.id == task_id).values(title="Planned", version=Task.version + 1),
                       execution_options={HISTORY_SOURCE: "bulk"})
    db.session.commit()


@pytest.mark.parametrize("enabled, recorded", [(False, 0), (True, 3)])
def test_the_switch_decides_whether_writes_are_recorded(app, client, auth_headers, enabled, recorded):
    app.config["HISTORY_ENABLED"] = enabled
    before = logged()
    write_every_way(client, auth_headers)
    assert logged() - before == recorded


def test_it_is_on_by_default_and_read_from_the_environment():
    assert Config({}).HISTORY_ENABLED is True
    assert Config({"HISTORY_ENABLED": "false"}).HISTORY_ENABLED is False
    with pytest.raises(ConfigError, match="HISTORY_ENABLED"):
        Config({"HISTORY_ENABLED": "sometimes"})


def test_a_flush_outside_requests_follows_the_switch_too(app):
    app.config["HISTORY_ENABLED"] = False
    make_task("quiet")
    assert logged() == 0
    app.config["HISTORY_ENABLED"] = True
    make_task("heard")
    assert logged() == 1
