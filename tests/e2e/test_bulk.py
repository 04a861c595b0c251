"""Bulk actions in a real browser: tick tasks on the list, mark them done, confirm, read the result."""
import re

from playwright.sync_api import expect

from tests.e2e.pages import log_in


def test_mark_tasks_done_from_the_list(page, screenshot_dir):
    log_in(page)

    page.goto("/admin/tasks?done=false&sort=title")
    rows = page.locator("input.bulk-row")
    open_before = int(re.sub(r"\D", "", page.locator("#list-count strong").inner_text()))
    assert rows.count() >= 3 and open_before >= 3

    # "Select all on this page" ticks every row; the count follows.
    select_page = page.get_by_label("Select all on this page")
    select_page.check()
    expect(page.locator("#bulk-selected")).to_have_text(f"{rows.count()} selected")
    select_page.uncheck()
    expect(page.locator("#bulk-selected")).to_have_text("0 selected")

    # Only the chosen action's argument is offered.
    action = page.get_by_label("With the selected tasks")
    action.select_option("assign")
    expect(page.get_by_label("New assignee")).to_be_visible()
    action.select_option("mark_done")
    expect(page.get_by_label("New assignee")).to_be_hidden()

    rows.nth(0).check()
    rows.nth(1).check()
    expect(page.locator("#bulk-selected")).to_have_text("2 selected")
    page.screenshot(path=str(screenshot_dir / "bulk-list.png"), full_page=True)
    page.get_by_role("button", name="Continue…").click()

    expect(page.get_by_role("heading", name="Mark done: tasks")).to_be_visible()
    expect(page.locator("#bulk-summary")).to_contain_text("2 tasks will change")
    expect(page.locator("#bulk-preview tbody tr")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "bulk-confirm.png"), full_page=True)
    page.get_by_role("button", name="Confirm: mark done 2 tasks").click()

    expect(page.locator("#bulk-result")).to_have_text("2 tasks changed.")
    page.get_by_role("link", name="Back to the list").click()
    expect(page).to_have_url(re.compile(r"/admin/tasks\?done=false&sort=title$"))
    expect(page.locator("#list-count strong")).to_have_text(f"{open_before - 2:,}")
    assert page.problems == []
