"""CSV in a real browser: the list's Export CSV button downloads the filtered list,
and the import page previews an edited file, then applies it on confirm."""
import csv
import io
import re

from playwright.sync_api import expect

from tests.e2e.pages import log_in


def test_export_edit_and_import_back(page, tmp_path):
    log_in(page)

    page.goto("/admin/tasks?done=true&sort=-title")
    shown = int(re.search(r"\d+", page.locator("#list-count strong").inner_text()).group())
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("tasks-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read(), newline="")))
    assert len(rows) == shown > 0
    assert {row["done"] for row in rows} == {"true"}
    assert [row["title"] for row in rows] == sorted((row["title"] for row in rows), reverse=True)

    # Edit one title, add a row, upload: the preview shows both and writes nothing.
    rows[0]["title"] = "=Edited in a spreadsheet"
    edited = tmp_path / "tasks.csv"
    with open(edited, "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        writer.writerow({**rows[1], "id": "", "version": "", "title": "Brought in by CSV"})
    page.goto("/admin/tasks")
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import tasks from CSV")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(str(edited))
    page.get_by_role("button", name="Preview import").click()
    expect(page.locator("#import-summary")).to_have_text(
        f"1 tasks would be created, 1 updated, {len(rows) - 1} unchanged.")
    expect(page.locator(".import-updates ins")).to_have_text("=Edited in a spreadsheet")
    expect(page.locator(".import-creates")).to_contain_text("Brought in by CSV")

    page.get_by_role("button", name=re.compile("Confirm: import 2 tasks")).click()
    expect(page.get_by_text("1 tasks were created, 1 updated")).to_be_visible()
    page.get_by_label("Search tasks").fill("Edited in a spreadsheet")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="=Edited in a spreadsheet")).to_be_visible()
    assert page.problems == []
