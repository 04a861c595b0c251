"""A client generated from the live document works: openapi-python-client builds
it without a warning, and a short script drives it against the app served by
waitress on loopback (the generated code speaks httpx over the network).

The server runs the test's own app object in a thread, so it shares the test's
database: on in-memory SQLite there is no other way to see the same rows.
"""
from __future__ import annotations

import datetime
import importlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from waitress.server import create_server

PACKAGE = "best_app_client"
BIN = Path(sys.executable).parent


@pytest.fixture
def generated(client, tmp_path):
    """The client package generated from GET /api/v1/openapi.json, imported."""
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(client.get("/api/v1/openapi.json").get_json()))
    # The generator formats its output with ruff, which it looks for on PATH.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [BIN / "openapi-python-client", "generate", "--path", document, "--output-path", tmp_path / PACKAGE,
         "--meta", "none", "--fail-on-warning"],
        capture_output=True, text=True, env=env, timeout=120)
    output = result.stdout + result.stderr
    # Any warning means part of the document was skipped or typed as "anything".
    assert result.returncode == 0 and "warning" not in output.lower(), output
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.invalidate_caches()
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def server(app):
    """The test's app served by waitress on a free loopback port; yields its URL."""
    # One request at a time: on in-memory SQLite the test and the server share one connection.
    server = create_server(app, host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    # Closed on the server's own thread: closing its sockets from here would race
    # the select() it is blocked in. With no listener left, its loop ends once the
    # client's connections are gone.
    server.trigger.pull_trigger(server.close)
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()
    assert not thread.is_alive(), "the server did not stop"


def test_a_generated_client_runs_a_script(generated, server, api_token):
    """What a script author would write: typed models, enum members by name, paging by cursor."""
    from best_app_client import AuthenticatedClient
    from best_app_client.api.cars import create_car, list_cars, list_user_cars
    from best_app_client.api.meta import health
    from best_app_client.api.tasks import list_user_tasks
    from best_app_client.api.users import create_user, delete_user, get_user, list_users, update_user
    from best_app_client.models import (Car, CarInput, CarPage, Health, HealthStatus, Problem,
                                        Role, User, UserInput, UserPage, UserPatch, UserSort)
    from best_app_client.types import UNSET

    with AuthenticatedClient(base_url=server, token=api_token, raise_on_unexpected_status=True) as api:
        assert health.sync(client=api).status is HealthStatus.OK
        assert isinstance(health.sync(client=api), Health)

        created = create_user.sync_detailed(client=api, body=UserInput(
            username="dora", email="dora@example.com", name="Dora", role=Role.TEACHER))
        assert created.status_code == 201, created.content
        dora = created.parsed
        assert isinstance(dora, User) and dora.role is Role.TEACHER
        assert isinstance(dora.created_at, datetime.datetime)
        assert created.headers["Location"] == f"/api/v1/users/{dora.id}"
        for name in ("erin", "bob", "carl", "fay"):
            body = UserInput(username=name, email=f"{name}@example.com", role=Role.STUDENT)
            assert create_user.sync_detailed(client=api, body=body).status_code == 201

        seen, cursor, first = [], None, None
        while True:
            page = list_users.sync(client=api, sort=UserSort.USERNAME_DESC, limit=2, count=first is None,
                                   cursor=cursor or UNSET)
            assert isinstance(page, UserPage), page
            first = first or page
            seen += [user.username for user in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == sorted(["admin", "dora", "erin", "bob", "carl", "fay"], reverse=True)
        assert first.count.matching.value == 6 and first.count.matching.exact
        teachers = list_users.sync(client=api, role=Role.TEACHER)
        assert [user.username for user in teachers.items] == ["dora"]

        got = get_user.sync_detailed(dora.id, client=api)
        assert got.status_code == 200 and got.parsed.email == "dora@example.com"
        etag = got.headers["ETag"]
        assert etag == f'"{dora.version}"'

        renamed = update_user.sync_detailed(dora.id, client=api, body=UserPatch(name="Dora M."), if_match=etag)
        assert renamed.status_code == 200 and renamed.parsed.name == "Dora M."
        stale = update_user.sync_detailed(dora.id, client=api, body=UserPatch(name="Lost"), if_match=etag)
        assert stale.status_code == 412 and isinstance(stale.parsed, Problem) and stale.parsed.status == 412
        invalid = update_user.sync_detailed(dora.id, client=api, body=UserPatch(email="not an email"))
        assert invalid.status_code == 422 and isinstance(invalid.parsed, Problem)
        assert "email" in invalid.parsed.errors.additional_properties, invalid.content

        car = create_car.sync(client=api, body=CarInput(model="Volvo XC40", owner_id=dora.id))
        assert isinstance(car, Car)
        cars = list_user_cars.sync(dora.id, client=api)
        assert isinstance(cars, CarPage) and [c.id for c in cars.items] == [car.id]
        recent = list_cars.sync(client=api, created_after=datetime.date(2000, 1, 1))
        assert [c.id for c in recent.items] == [car.id]
        assert list_user_tasks.sync(dora.id, client=api).items == []

        refused = delete_user.sync_detailed(dora.id, client=api)
        assert refused.status_code == 409 and refused.parsed.dependents.additional_properties == {"cars": 1}
        deleted = delete_user.sync_detailed(dora.id, client=api, cascade=True)
        assert deleted.status_code == 204, deleted.content
        gone = get_user.sync_detailed(dora.id, client=api)
        assert gone.status_code == 404 and gone.parsed.status == 404
        assert list_cars.sync(client=api).items == []
