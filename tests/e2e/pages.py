"""Helpers for the browser tests that visit every admin page."""
from __future__ import annotations

import re
from contextlib import contextmanager

from tests.e2e.conftest import ADMIN, watch_console


@contextmanager
def open_page(browser, server: str, **context_options):
    """A page in a browser context of its own (`context_options`: viewport, color_scheme...);
    `page.problems` collects console errors and uncaught exceptions, which no page may have."""
    context = browser.new_context(base_url=server, **context_options)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        watch_console(page)
        yield page
    finally:
        context.close()


def log_in(page) -> None:
    page.goto("/admin/login")
    page.get_by_label("Username or email").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def admin_pages(page) -> list[str]:
    """The path of every page an admin can open, found from the navigation as a
    person would: each link of the navbar, each list's "New" form and its first
    row's edit form, a token's revoke confirmation, and My account."""
    page.goto("/admin/")
    nav = page.locator("#nav-links a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    paths = ["/admin/"]
    for href in nav:
        if href in paths:
            continue
        paths.append(href)
        page.goto(href)
        new = page.locator("main a.btn-primary", has_text=re.compile(r"^New "))
        if new.count():
            paths.append(new.first.get_attribute("href"))
            first = page.locator("table.list-table tbody a.fw-semibold").first
            if first.count():
                paths.append(first.get_attribute("href"))
        revoke = page.locator("main a", has_text="Revoke…").first
        if revoke.count():
            paths.append(revoke.get_attribute("href"))
    return paths
