"""An admin's day in a real browser: everything through the pages, as a person would."""
import re

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN

USERNAME = "e2e.driver"


def test_admin_walkthrough(page, screenshot_dir):
    # Anonymous visitors land on the login page.
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.get_by_label("Username or email").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Welcome, Erin Admin.")).to_be_visible()
    expect(page.locator("svg.task-chart")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "dashboard.png"), full_page=True)

    # Create a user.
    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Email").fill("driver@example.com")
    page.get_by_label("Full name").fill("Dana Driver")
    page.get_by_label("Role").select_option("teacher")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text(f"User {USERNAME} was created.")).to_be_visible()

    # Find them with the search box and open their page.
    page.get_by_label("Search users").fill("driver")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=USERNAME, exact=True).click()
    expect(page.get_by_role("heading", name=f"Edit user {USERNAME}")).to_be_visible()

    # Add a car for them: first forget the model (a validation error), then fix it.
    page.get_by_role("link", name="add a car").click()
    owner = page.get_by_label("Owner")
    expect(owner).to_have_value(USERNAME)
    page.get_by_role("button", name="Create car").click()
    expect(page.locator("#model-errors")).to_have_text("This field is required.")
    expect(owner).to_have_value(USERNAME)  # what was entered is kept
    page.get_by_label("Model").fill("Tesla Model 3")
    # The owner picker suggests users as one types (backed by the lookup endpoint).
    owner.fill("e2e.dr")
    expect(page.locator("#owner_id-options option")).to_have_count(1)
    expect(page.locator("#owner_id-options option")).to_have_attribute("value", USERNAME)
    owner.fill("DANA DRIVER")  # by name, in any case
    expect(page.locator("#owner_id-options option")).to_have_count(1)
    owner.fill(USERNAME)
    page.get_by_role("button", name="Create car").click()
    expect(page.get_by_text("Car Tesla Model 3 was created.")).to_be_visible()
    # Back where we came from: the user's page, whose related links lead to their cars.
    expect(page.get_by_role("heading", name=f"Edit user {USERNAME}")).to_be_visible()
    page.get_by_role("link", name=f"Cars of {USERNAME}").click()
    expect(page.get_by_text(f"Owner: {USERNAME}")).to_be_visible()
    expect(page.get_by_role("link", name="Tesla Model 3")).to_be_visible()
    # Cars are found by their owner's name too, and the count says how many match.
    page.goto("/admin/cars?q=dana+driver")  # the demo rows have other Danas
    expect(page.get_by_role("link", name="Tesla Model 3")).to_be_visible()
    expect(page.locator("#list-count")).to_contain_text("1 of")

    # A task for them, then mark it done.
    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_label("Search users").fill(USERNAME)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"Tasks of {USERNAME}").click()
    page.get_by_role("link", name="New task").click()
    page.get_by_label("Title").fill("Return the charging cable")
    expect(page.get_by_label("Assignee")).to_have_value(USERNAME)
    page.get_by_role("button", name="Create task").click()
    expect(page.get_by_text("Task Return the charging cable was created.")).to_be_visible()
    page.get_by_label("Search tasks").fill("charging cable")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Return the charging cable").click()
    page.get_by_label("Done").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Task Return the charging cable was saved.")).to_be_visible()
    # Back on the search it came from; narrow it with the filter panel, then undo that.
    expect(page.get_by_label("Search tasks")).to_have_value("charging cable")
    page.get_by_label("Done", exact=True).select_option("true")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Done: Done")).to_be_visible()
    expect(page.get_by_label("Search tasks")).to_have_value("charging cable")  # kept
    expect(page.get_by_role("row").filter(has_text="Return the charging cable")).to_contain_text("Done")
    expect(page.locator("#list-count")).to_contain_text("1 of")
    page.get_by_role("link", name="Remove filter Done: Done").click()
    expect(page.get_by_text("Done: Done")).to_have_count(0)

    # Its history shows who changed what; restore the first version (not done yet).
    page.get_by_role("link", name="Return the charging cable").click()
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History of task Return the charging cable")).to_be_visible()
    expect(page.locator(".change-list > li")).to_have_count(2)
    page.get_by_role("link", name="Restore this version").last.click()
    expect(page.get_by_text("Saving this form will change:")).to_be_visible()
    expect(page.get_by_label("Done")).not_to_be_checked()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Task Return the charging cable was saved.")).to_be_visible()
    page.goto("/admin/tasks?done=false&q=charging")
    expect(page.get_by_role("link", name="Return the charging cable")).to_be_visible()

    # Delete the user through the confirmation page.
    page.goto(f"/admin/users?q={USERNAME}")
    page.get_by_role("link", name=USERNAME, exact=True).click()
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="1 car will be deleted with this user")).to_be_visible()
    expect(page.get_by_text("Tesla Model 3")).to_be_visible()
    expect(page.get_by_role("heading", name="1 task will be unassigned (not deleted)")).to_be_visible()
    page.get_by_role("button", name=f"Yes, delete {USERNAME}").click()
    expect(page.get_by_text(f"User {USERNAME} was deleted.")).to_be_visible()
    page.goto("/admin/tasks?q=charging")
    expect(page.get_by_role("row").filter(has_text="Return the charging cable")).to_contain_text("Unassigned")

    page.goto("/admin/users?sort=name")
    page.screenshot(path=str(screenshot_dir / "users.png"), full_page=True)

    # Log out.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have been logged out.")).to_be_visible()
    page.goto("/admin/users")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    assert page.problems == []
