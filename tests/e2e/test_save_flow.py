"""The save flow in a real browser: save and add another, back to the filtered list with the
row highlighted, adding a car on a user's page, and the conflict panel with two tabs."""
import re

from playwright.sync_api import expect

from tests.e2e.conftest import watch_console
from tests.e2e.pages import log_in

PREFIX = "e2e.flow"


def fill_user(page, username: str, name: str):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Full name").fill(name)


def test_save_flow(page):
    log_in(page)

    # Save and add another: a fresh form, the flash linking to the one just made.
    page.goto("/admin/users/new")
    fill_user(page, f"{PREFIX}.ann", "Ann Flow")
    page.get_by_role("button", name="Save and add another").click()
    expect(page.get_by_role("heading", name="New user")).to_be_visible()
    expect(page.get_by_text(f"User {PREFIX}.ann was created.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("")
    fill_user(page, f"{PREFIX}.ben", "Ben Flow")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text(f"User {PREFIX}.ben was created.")).to_be_visible()
    # The list sorts by id and the seeded users fill its first page: the flash says where Ben went.
    note = page.get_by_text(f"User {PREFIX}.ben is not on this page of the list")
    expect(note).to_be_visible()
    note.get_by_role("link", name=f"{PREFIX}.ben").click()
    expect(page.get_by_role("heading", name=f"Edit user {PREFIX}.ben")).to_be_visible()

    # Back to the filtered, sorted list it came from, the saved row highlighted and in view.
    listing = f"/admin/users?q={PREFIX}&sort=-username&limit=50&role=employee"
    page.goto(listing)
    page.get_by_role("link", name=f"{PREFIX}.ann", exact=True).click()
    page.get_by_label("Full name").fill("Ann Flowers")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(f"User {PREFIX}.ann was saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/users\?q=e2e\.flow&sort=-username&limit=50&role=employee"
                                        r"&highlight=\d+#row-\d+$"))
    expect(page.get_by_label("Search users")).to_have_value(PREFIX)
    row = page.locator("tr.row-highlight")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ann Flowers")
    expect(row).to_be_in_viewport()

    # A car added on the user's page, without leaving it.
    row.get_by_role("link", name=f"{PREFIX}.ann", exact=True).click()
    expect(page.get_by_role("heading", name=f"Edit user {PREFIX}.ann")).to_be_visible()
    page.get_by_label("Model").fill("Saab 900")
    page.get_by_role("button", name="Add car").click()
    expect(page.get_by_role("heading", name=f"Edit user {PREFIX}.ann")).to_be_visible()
    expect(page.get_by_text("Car Saab 900 was created.")).to_be_visible()
    cars = page.locator("section.related-section").filter(has_text=f"Cars of {PREFIX}.ann")
    expect(cars.locator("li.row-highlight")).to_have_text("Saab 900")
    # The user's page still returns to the list.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/users\?q=e2e\.flow&sort=-username"))

    # Two tabs on one user: the first saves, the second is shown the conflict and merges.
    page.get_by_role("link", name=f"{PREFIX}.ben", exact=True).click()
    other = page.context.new_page()
    other.set_default_timeout(10_000)
    watch_console(other)
    other.goto(page.url)
    page.get_by_label("Full name").fill("Benjamin Flow")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(f"User {PREFIX}.ben was saved.")).to_be_visible()

    other.get_by_label("Role").select_option("teacher")
    other.get_by_role("button", name="Save", exact=True).click()
    panel = other.locator(".conflict-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("The table above the form")
    expect(panel.locator("tr.conflict-differs")).to_have_count(2)
    expect(panel.locator("tr").filter(has_text="Role")).to_contain_text("Teacher")
    expect(panel.locator("tr").filter(has_text="Full name")).to_contain_text("Benjamin Flow")
    expect(other.get_by_label("Full name")).to_have_value("Benjamin Flow")  # the first tab's change, taken in
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.get_by_text(f"User {PREFIX}.ben was saved.")).to_be_visible()
    # Back on the list of employees, which Ben (a teacher now) has left: the flash says so.
    note = other.get_by_text(f"User {PREFIX}.ben is not on this page of the list")
    expect(note).to_be_visible()
    note.get_by_role("link", name=f"{PREFIX}.ben").click()
    expect(other.get_by_label("Full name")).to_have_value("Benjamin Flow")
    expect(other.get_by_label("Role")).to_have_value("teacher")

    assert page.problems == [] and other.problems == []
