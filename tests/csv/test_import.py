"""CSV imports: validated with the resources' forms, all or nothing, version-checked."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from best_app.extensions import db
from best_app.models import Car, Change, Task, User
from tests.conftest import USING_POSTGRES, make_car, make_task, make_user
from tests.csv.conftest import assert_problem, csv_bytes, rows_of

CSV = {"Content-Type": "text/csv"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def post(client, headers, resource: str, body: bytes, **args):
    query = "&".join(f"{name}={value}" for name, value in args.items())
    return client.post(f"/api/v1/{resource}/import?{query}", data=body, headers={**headers, **CSV})


@pytest.mark.parametrize("resource", ["users", "cars", "tasks"])
def test_an_export_imports_back_unchanged(client, auth_headers, resource):
    alice = make_user("alice", name="=HYPERLINK(\"x\")")
    make_car(alice, model="-1 Series")
    task = make_task("@mention \"quoted\", comma", assignee=alice)
    task.description = "\tTabbed\nsecond line\r\nthird"
    db.session.commit()
    exported = client.get(f"/api/v1/{resource}?format=csv", headers=auth_headers).get_data()
    changes_before = count(Change)
    for dry_run in ("true", "false"):
        response = post(client, auth_headers, resource, exported, dry_run=dry_run)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert (body["created"], body["updated"], body["error_count"]) == (0, 0, 0)
        assert body["unchanged"] == count({"users": User, "cars": Car, "tasks": Task}[resource])
    assert count(Change) == changes_before
    assert client.get(f"/api/v1/{resource}?format=csv", headers=auth_headers).get_data() == exported


def test_creates_and_updates_with_version_check(client, auth_headers):
    alice = make_user("alice")
    task = make_task("Old title")
    body = csv_bytes(["id", "version", "title", "done", "assignee_id"],
                     [task.id, 1, "'=New title", "true", alice.id], ["", "", "Brand new", "no", "alice"])
    dry = post(client, auth_headers, "tasks", body, dry_run="true").get_json()
    assert (dry["created"], dry["updated"], dry["applied"]) == (1, 1, False)
    db.session.expire_all()
    assert db.session.get(Task, task.id).title == "Old title" and count(Task) == 1
    done = post(client, auth_headers, "tasks", body).get_json()
    assert (done["created"], done["updated"], done["applied"]) == (1, 1, True)
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert (task.title, task.done, task.assignee_id, task.version) == ("=New title", True, alice.id, 2)
    new = db.session.scalar(select(Task).where(Task.title == "Brand new"))
    assert new.assignee_id == alice.id and new.done is False
    # The same file again: its version is now stale.
    stale = assert_problem(post(client, auth_headers, "tasks", body), 422, "Changed since export")
    assert stale["errors"][0] == {"line": 2, "field": "version", "message": stale["errors"][0]["message"]}
    assert "now at version 2" in stale["errors"][0]["message"]
    assert count(Task) == 2  # the stale file's new row was not created either
    forced = post(client, auth_headers, "tasks", body, overwrite="true").get_json()
    assert (forced["created"], forced["updated"], forced["unchanged"]) == (1, 0, 1)


def test_one_bad_row_writes_nothing(client, auth_headers):
    task = make_task("Keep me")
    body = csv_bytes(["id", "version", "title", "assignee_id"],
                     [task.id, 1, "Changed", ""], ["", "", "Fine", ""], ["", "", "", ""], ["", "", "Ok", "nobody"])
    errors = assert_problem(post(client, auth_headers, "tasks", body), 422)["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(4, "title"), (5, "assignee_id")]
    assert "No user" in errors[1]["message"]
    db.session.expire_all()
    assert count(Task) == 1 and db.session.get(Task, task.id).title == "Keep me"


def test_missing_ids_duplicate_ids_and_ragged_rows_are_row_errors(client, auth_headers):
    task = make_task()
    body = (b"id,version,title\r\n" + f"{task.id},1,A\r\n{task.id},1,B\r\n999,1,C\r\nabc,1,D\r\n,,E,extra\r\n,\r\n"
            .encode())
    errors = assert_problem(post(client, auth_headers, "tasks", body), 422)["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(3, "id"), (4, "id"), (5, "id"), (6, None), (7, None)]
    assert "has 4 cells; the header names 3" in errors[3]["message"]


def test_a_million_errors_are_capped_and_counted(client, auth_headers):
    body = b"title\r\n" + b'""\r\n' * 1500
    body = body.replace(b'""\r\n', b"=\x01\r\n", 1)
    problem = assert_problem(post(client, auth_headers, "tasks", body), 422, "1500 errors")
    assert problem["error_count"] == 1500 and len(problem["errors"]) == 100


@pytest.mark.parametrize("body, words", [
    ("title\r\ncafé\r\n".encode("latin-1"), ["not UTF-8", "line 2"]),
    (b"", ["empty"]),
    (b"\r\n \r\n", ["empty"]),
    (b"titel,done\r\nx,true\r\n", ["Unknown column", "'titel'", "title"]),
    (b"Fix tyres,true\r\n", ["Unknown column", "'Fix tyres'"]),
    (b"title,title\r\nx,y\r\n", ["more than once", "title"]),
    (b"id,created_at\r\n1,2020\r\n", ["No column to import"]),
    (b"id,title\r\n1,x\r\n", ["no version column"]),
    (b'title\r\n"unterminated\r\n', ["Line 2", "not valid CSV"]),
])
def test_bad_files_are_refused_whole(client, auth_headers, body, words):
    make_task("Existing")
    assert_problem(post(client, auth_headers, "tasks", body), 400, *words)
    assert count(Task) == 1


def test_a_bom_and_a_header_only_file_are_fine(client, auth_headers):
    response = post(client, auth_headers, "tasks", "\ufefftitle,done\r\nWith BOM,true\r\n".encode("utf-8"))
    assert response.get_json()["created"] == 1
    assert post(client, auth_headers, "tasks", b"title\r\n").get_json()["created"] == 0


def test_a_huge_file_is_a_413_and_other_bodies_keep_their_limit(app, client, auth_headers):
    app.config["CSV_IMPORT_MAX_BYTES"] = 2048
    body = b"title\r\n" + b"A task\r\n" * 300
    assert_problem(post(client, auth_headers, "tasks", body), 413, "2,048 bytes", "CSV_IMPORT_MAX_BYTES")
    app.config["CSV_IMPORT_MAX_BYTES"] = 1024 * 1024
    body = b"title\r\n" + b"A longer task title\r\n" * 4_000  # past MAX_CONTENT_LENGTH (64 KiB)
    assert post(client, auth_headers, "tasks", body).status_code == 200
    assert count(Task) == 4_000
    # JSON bodies still stop at MAX_CONTENT_LENGTH.
    response = client.post("/api/v1/tasks", data=b'{"title": "' + b"x" * 70_000 + b'"}',
                           headers={**auth_headers, "Content-Type": "application/json"})
    assert response.status_code == 413


def test_content_type_and_parameters_are_checked(client, auth_headers, reader_headers):
    assert_problem(client.post("/api/v1/tasks/import", data=b"title\r\nx\r\n", headers={
        **auth_headers, "Content-Type": "application/json"}), 415, "text/csv")
    assert_problem(post(client, auth_headers, "tasks", b"title\r\nx\r\n", dry_run="maybe"), 400, "dry_run")
    assert_problem(post(client, auth_headers, "tasks", b"title\r\nx\r\n", force="1"), 400, "force")
    assert_problem(post(client, reader_headers, "tasks", b"title\r\nx\r\n"), 403)


def test_users_unique_fields_passwords_and_own_rules(client, auth_headers):
    make_user("taken", email="taken@example.com")
    body = csv_bytes(["username", "email", "password"], ["new.one", "new@example.com", "a long password"],
                     ["TAKEN", "other@example.com", ""], ["second", "NEW@example.com", ""],
                     ["bad name!", "x@example.com", "short"])
    errors = assert_problem(post(client, auth_headers, "users", body), 422)["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(3, "username"), (4, "email"), (5, "username"),
                                                         (5, "password")]
    assert "also on line 2" in errors[1]["message"]
    body = csv_bytes(["username", "email", "password"], ["new.one", "new@example.com", "a long password"])
    assert post(client, auth_headers, "users", body).get_json()["created"] == 1
    assert db.session.scalar(select(User).where(User.username == "new.one")).check_password("a long password")


def test_imports_are_in_the_change_log_and_invalidate_the_cache(client, auth_headers):
    task = make_task("Before")
    assert client.get("/api/v1/tasks", headers=auth_headers).get_json()["items"][0]["title"] == "Before"
    assert client.get("/api/v1/tasks", headers=auth_headers).headers["X-Cache"] == "HIT"
    body = csv_bytes(["id", "version", "title"], [task.id, 1, "After"], ["", "", "Added"])
    assert post(client, auth_headers, "tasks", body).status_code == 200
    listed = client.get("/api/v1/tasks", headers=auth_headers).get_json()["items"]
    assert [item["title"] for item in listed] == ["After", "Added"]
    entries = db.session.scalars(select(Change).where(Change.resource == "tasks").order_by(Change.id)).all()
    imported = {e.action: e for e in entries if e.source == "import"}
    assert set(imported) == {"update", "create"} and len(entries) == 3
    assert imported["update"].fields == {"title": ["Before", "After"]}
    assert imported["create"].fields["title"] == [None, "Added"]


def test_cli_import(runner, tmp_path):
    task = make_task("Old")
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(["id", "version", "title"], [task.id, 1, "New"], ["", "", "Added"]))
    result = runner.invoke(args=["import", "tasks", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 tasks would be created, 1 updated" in result.output and count(Task) == 1
    result = runner.invoke(args=["import", "tasks", str(good)])
    assert result.exit_code == 0 and "were created" in result.output
    assert count(Task) == 2
    result = runner.invoke(args=["import", "tasks", str(good)])
    assert result.exit_code == 1
    assert "line 2, version: Changed since export" in result.output and "nothing was changed" in result.output
    result = runner.invoke(args=["import", "tasks", str(good), "--overwrite"])
    assert result.exit_code == 0 and count(Task) == 3
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"title\r\n\xff\r\n")
    result = runner.invoke(args=["import", "tasks", str(bad)])
    assert result.exit_code == 1 and "not UTF-8" in result.output


def test_rows_imported_from_an_export_of_the_api_round_trip_via_cli(client, auth_headers, runner, tmp_path):
    make_task("=1+1")
    path = tmp_path / "tasks.csv"
    path.write_bytes(client.get("/api/v1/tasks?format=csv", headers=auth_headers).get_data())
    result = runner.invoke(args=["import", "tasks", str(path)])
    assert result.exit_code == 0 and "0 tasks were created, 0 updated, 1 unchanged" in result.output
    assert [row["title"] for row in rows_of(client.get("/api/v1/tasks?format=csv", headers=auth_headers))] == \
        ["'=1+1"]


@pytest.mark.skipif(not USING_POSTGRES, reason="the one-statement writes are PostgreSQL's")
def test_the_bulk_update_checks_versions_and_is_used_on_postgres(app):
    from types import SimpleNamespace

    from best_app.csvio import bulk
    from best_app.resources import REGISTRY

    tasks = REGISTRY["tasks"]
    assert bulk.usable(tasks) and not bulk.usable(REGISTRY["users"])  # users hash passwords: the ORM
    task = make_task("Mine")
    values = {"title": "Theirs", "description": None, "done": True, "assignee_id": None}
    stale = SimpleNamespace(row_id=task.id, version=task.version + 1, values=values,
                            changes=[("title", "Mine", "Theirs")])
    assert bulk.update_rows(tasks, [stale]) is False
    current = SimpleNamespace(**{**vars(stale), "version": task.version})
    assert bulk.update_rows(tasks, [current]) is True
    db.session.commit()
    db.session.expire_all()
    assert (task.title, task.done, task.version) == ("Theirs", True, 2)


def test_the_process_objects_are_frozen_for_the_collector_during_an_import_only(app):
    import gc

    from best_app.csvio.importer import import_rows
    from best_app.csvio.reader import read_csv
    from best_app.resources import REGISTRY

    seen = []
    tasks = REGISTRY["tasks"]
    import_rows(tasks, read_csv(tasks, b"title\r\nA\r\n", 1024), dry_run=True,
                progress=lambda n: seen.append(gc.get_freeze_count()))
    assert seen and seen[0] > 0 and gc.get_freeze_count() == 0
