"""CSV exports: every matching row of a list, from the API, the admin and the CLI."""
from __future__ import annotations

import csv
import io

import pytest

from best_app.csvio import export
from best_app.csvio.cells import escape, unescape
from best_app.extensions import db
from tests.conftest import make_task, make_user
from tests.csv.conftest import assert_problem, rows_of

TASK_COLUMNS = ["id", "title", "description", "done", "assignee_id", "created_at", "updated_at", "version"]


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 3 rows, so that a few rows cross several of them."""
    monkeypatch.setattr(export, "CHUNK", 3)


def test_every_matching_row_not_one_page_with_filters_search_and_sort(client, auth_headers, small_chunks):
    alice = make_user("alice")
    for i in range(12):
        make_task(f"Report {i:02d}", assignee=alice if i % 2 else None, done=i % 3 == 0)
    make_task("Something else", done=True)
    response = client.get("/api/v1/tasks?format=csv&q=report&done=true&sort=-title&limit=1", headers=auth_headers)
    rows = rows_of(response)
    assert list(rows[0]) == TASK_COLUMNS
    assert [row["title"] for row in rows] == ["Report 09", "Report 06", "Report 03", "Report 00"]
    assert {row["done"] for row in rows} == {"true"}
    assert [row["assignee_id"] for row in rows] == [str(alice.id), "", str(alice.id), ""]
    everything = rows_of(client.get("/api/v1/tasks?format=csv", headers=auth_headers))
    assert [int(row["id"]) for row in everything] == list(range(1, 14))


def test_headers_never_cached_and_a_download(client, auth_headers):
    make_task()
    response = client.get("/api/v1/tasks", headers={**auth_headers, "Accept": "text/csv"})
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="tasks-')
    assert len(rows_of(response)) == 1
    assert client.get("/api/v1/tasks", headers=auth_headers).mimetype == "application/json"
    # format wins over Accept
    assert client.get("/api/v1/tasks?format=json", headers={**auth_headers, "Accept": "text/csv"}).is_json


def test_a_bad_format_is_a_400_naming_it(client, auth_headers):
    body = assert_problem(client.get("/api/v1/tasks?format=xml", headers=auth_headers), 400, "format")
    assert body["parameter"] == "format"
    assert_problem(client.get("/api/v1/tasks?format=csv&sort=nope", headers=auth_headers), 400, "sort")


def test_secret_fields_are_never_exported(client, auth_headers):
    make_user("bob", password="a secret password")
    text = client.get("/api/v1/users?format=csv", headers=auth_headers).get_data(as_text=True)
    assert text.splitlines()[0] == "id,username,email,name,role,is_admin,created_at,updated_at,version"
    assert "password" not in text and "pbkdf2" not in text and "scrypt" not in text


def test_formula_cells_are_escaped_numbers_are_not(client, auth_headers):
    titles = ["=1+2", "+cmd", "-5", "@SUM(A1)", "'=already quoted", "'plain quote", "5", "a=b"]
    for title in titles:
        make_task(title)
    make_task("tabbed", ).description = "\tstarts with a tab"
    db.session.commit()
    rows = rows_of(client.get("/api/v1/tasks?format=csv", headers=auth_headers))
    assert [row["title"] for row in rows] == ["'=1+2", "'+cmd", "'-5", "'@SUM(A1)", "''=already quoted",
                                              "'plain quote", "5", "a=b", "tabbed"]
    assert rows[-1]["description"] == "'\tstarts with a tab"
    assert all(not row["id"].startswith("'") and not row["version"].startswith("'") for row in rows)
    assert [unescape(row["title"]) for row in rows[:-1]] == titles


@pytest.mark.parametrize("text", ["", "=", "'", "''=", "'\r", "x", "-", "'-1", "@@", "\t", "a'"])
def test_escape_round_trips(text):
    assert unescape(escape(text)) == text


def test_quotes_newlines_and_unicode_survive(client, auth_headers):
    task = make_task('Say "hi", then — ünïcødé 😀')
    task.description = 'Line one\nline "two",\r\nand three'
    db.session.commit()
    raw = client.get("/api/v1/tasks?format=csv", headers=auth_headers).get_data()
    assert b"\r\n" in raw and '"Say ""hi"", then'.encode() in raw
    [row] = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert row["title"] == task.title and row["description"] == task.description


def test_a_scoped_list_exports_its_rows_only(client, auth_headers):
    alice, bob = make_user("alice"), make_user("bob")
    make_task("Hers", assignee=alice)
    make_task("His", assignee=bob)
    rows = rows_of(client.get(f"/api/v1/users/{alice.id}/tasks?format=csv", headers=auth_headers))
    assert [row["title"] for row in rows] == ["Hers"]
    assert_problem(client.get("/api/v1/users/999/tasks?format=csv", headers=auth_headers), 404)


def test_a_read_only_token_may_export(client, reader_headers):
    make_task()
    assert len(rows_of(client.get("/api/v1/tasks?format=csv", headers=reader_headers))) == 1


def test_admin_export_button_downloads_the_list_as_filtered(logged_in_client):
    make_task("Open one")
    make_task("Done one", done=True)
    page = logged_in_client.get("/admin/tasks?done=true&sort=-title").get_data(as_text=True)
    assert "Export CSV" in page and "export=csv" in page
    response = logged_in_client.get("/admin/tasks?done=true&sort=-title&export=csv&limit=25")
    assert [row["title"] for row in rows_of(response)] == ["Done one"]
    assert response.headers["Cache-Control"] == "no-store"
    assert logged_in_client.get("/admin/tasks?export=pdf").status_code == 400


def test_admin_export_needs_a_login(client):
    response = client.get("/admin/tasks?export=csv")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_cli_export(runner, tmp_path):
    make_task("=danger")
    target = tmp_path / "tasks.csv"
    result = runner.invoke(args=["export", "tasks", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8"), newline="")))
    assert [row["title"] for row in rows] == ["'=danger"]


def test_cells_are_written_as_the_json_api_writes_values(client, auth_headers):
    from datetime import datetime, timezone

    alice = make_user("alice")
    whole_second = make_task("Whole second", assignee=alice, done=True)
    whole_second.created_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    make_task("Now")
    db.session.commit()
    items = client.get("/api/v1/tasks", headers=auth_headers).get_json()["items"]
    rows = rows_of(client.get("/api/v1/tasks?format=csv", headers=auth_headers))
    for item, row in zip(items, rows, strict=True):
        expected = {name: "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
                    for name, value in item.items()}
        assert row == expected
    assert rows[0]["created_at"] == "2026-01-02T03:04:05+00:00"
