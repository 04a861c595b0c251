"""My account in a real browser: an administrator changes their own password from the link beside
their name; a wrong current password changes nothing; the new one logs in, the old one no longer does;
an administrator without a password is refused."""
from playwright.sync_api import expect

from tests.e2e.pages import log_in

USERNAME, FIRST, SECOND = "e2e.account", "first password 1", "second password 2"


def log_in_as(page, password: str):
    page.goto("/admin/login")
    page.get_by_label("Username or email").fill(USERNAME)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_changes_their_own_password(page):
    log_in(page)
    page.goto("/admin/users/new")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Email").fill(f"{USERNAME}@example.com")
    page.get_by_label("Administrator").check()
    page.get_by_role("button", name="Create user").click()
    # No password for an administrator who is not meant for tokens only: refused, nothing made.
    expect(page.get_by_text("An administrator needs a password", exact=False)).to_be_visible()
    page.get_by_label("Password", exact=True).fill(FIRST)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text(f"User {USERNAME} was created.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in_as(page, FIRST)
    page.get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(SECOND)
    page.get_by_label("Repeat the new password").fill(SECOND)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()

    page.get_by_label("Current password").fill(FIRST)
    page.get_by_label("New password", exact=True).fill(SECOND)
    page.get_by_label("Repeat the new password").fill(SECOND)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in_as(page, FIRST)
    expect(page.get_by_role("heading", name="Dashboard")).to_have_count(0)
    log_in_as(page, SECOND)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert page.problems == []
