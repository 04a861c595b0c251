"""The admin's import pages: upload, a preview that writes nothing, confirm that writes it all."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from best_app.extensions import db
from best_app.models import Task
from tests.conftest import make_task
from tests.csv.conftest import csv_bytes
from tests.helpers import csrf_token


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Task))


def upload(client, body: bytes, **extra):
    page = client.get("/admin/tasks/import")
    assert page.status_code == 200
    return client.post("/admin/tasks/import", data={"csrf_token": csrf_token(page),
                                                    "file": (io.BytesIO(body), "tasks.csv"), **extra},
                       content_type="multipart/form-data")


def confirm_data(preview) -> dict:
    html = preview.get_data(as_text=True)
    form = html[html.index('id="confirm-import"'):]
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', form[:form.index("</form>")]))
    assert "content" in fields
    return fields


def test_upload_previews_then_confirm_applies(logged_in_client):
    task = make_task("Old title")
    body = csv_bytes(["id", "version", "title", "done"], [task.id, 1, "New title", "true"], ["", "", "Added", ""])
    preview = upload(logged_in_client, body)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "1 tasks would be created, 1 updated, 0 unchanged" in html
    assert "<del>Old title</del>" in html and "<ins>New title</ins>" in html and "Added" in html
    assert count() == 1 and db.session.get(Task, task.id).title == "Old title"
    done = logged_in_client.post("/admin/tasks/import", data=confirm_data(preview), follow_redirects=True)
    assert "1 tasks were created, 1 updated" in done.get_data(as_text=True)
    db.session.expire_all()
    assert count() == 2 and db.session.get(Task, task.id).title == "New title"


def test_confirm_after_the_row_changed_writes_nothing(logged_in_client):
    task = make_task("Old title")
    preview = upload(logged_in_client, csv_bytes(["id", "version", "title"], [task.id, 1, "Mine"], ["", "", "New"]))
    task.title = "Someone else's"
    db.session.commit()
    response = logged_in_client.post("/admin/tasks/import", data=confirm_data(preview))
    assert response.status_code == 422 and "Changed since export" in response.get_data(as_text=True)
    db.session.expire_all()
    assert count() == 1 and db.session.get(Task, task.id).title == "Someone else's"


def test_errors_are_listed_with_lines_and_fields_and_no_confirm(logged_in_client):
    response = upload(logged_in_client, b"title,done\r\nfine,true\r\n,false\r\nx,perhaps\r\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r"<td>3</td><td>title</td>", html) and re.search(r"<td>4</td><td>done</td>", html)
    assert 'id="confirm-import"' not in html and count() == 0


def test_bad_files_get_a_message(logged_in_client, app):
    response = upload(logged_in_client, "title\r\ncafé\r\n".encode("cp1252"))
    assert response.status_code == 400 and "not UTF-8" in response.get_data(as_text=True)
    response = upload(logged_in_client, b"")
    assert response.status_code == 400 and "The file is empty" in response.get_data(as_text=True)
    app.config["CSV_IMPORT_MAX_BYTES"] = 1024
    response = upload(logged_in_client, b"title\r\n" + b"x" * 2000 + b"\r\n")
    assert response.status_code == 413 and "1,024 bytes" in response.get_data(as_text=True)


def test_a_damaged_or_forged_confirmation_is_refused(logged_in_client):
    preview = upload(logged_in_client, b"title\r\nA\r\n")
    data = {**confirm_data(preview), "content": "not base64!"}
    response = logged_in_client.post("/admin/tasks/import", data=data)
    assert response.status_code == 400 and "damaged" in response.get_data(as_text=True)
    data.pop("csrf_token")
    assert logged_in_client.post("/admin/tasks/import", data=data).status_code == 400
    assert count() == 0


def test_the_list_links_to_the_import_page(logged_in_client):
    html = logged_in_client.get("/admin/cars").get_data(as_text=True)
    assert 'href="/admin/cars/import"' in html and "Import CSV" in html


def test_a_file_past_the_apps_body_limit_uploads_and_confirms(logged_in_client):
    body = b"title\r\n" + b"A longer task title\r\n" * 5_000  # ~100 KB, past MAX_CONTENT_LENGTH (64 KiB)
    preview = upload(logged_in_client, body)
    assert preview.status_code == 200 and "5000 tasks would be created" in preview.get_data(as_text=True)
    done = logged_in_client.post("/admin/tasks/import", data=confirm_data(preview), follow_redirects=True)
    assert "5000 tasks were created" in done.get_data(as_text=True) and count() == 5_000
