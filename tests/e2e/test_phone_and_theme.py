"""The lists on a phone (390 x 844), and the colour theme: auto, light or dark.

On a phone a list keeps its important columns (the declaration's ListColumn
priority 1; the others are hidden under the md breakpoint), every value on
one line, and its actions within reach; the page itself never scrolls sideways.
The theme follows the system until chosen in the navbar, is remembered, and
is applied before the page is painted (static/js/theme.js, no inline script).
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import log_in, open_page

PHONE = {"width": 390, "height": 844}
LISTS = ("/admin/users", "/admin/cars", "/admin/tasks")


@pytest.fixture
def phone(browser, server):
    with open_page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2) as page:
        yield page


# For each visible cell of the list: how many lines its text takes (a cell's box is as
# tall as its row, so the words' own rectangles are counted: a word starts a new line
# when it lies wholly below the lines so far), and any word broken across lines.
CELLS = """() => Array.from(document.querySelectorAll("table.list-table tbody tr:not(:only-child) td"))
  .filter(td => td.offsetParent !== null)
  .map(td => {
    const rects = [];
    let brokenWord = null;
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\\S+/g;
      let m;
      while ((m = re.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const parts = Array.from(range.getClientRects()).filter(r => r.width > 0);
        if (parts.length > 1 && !brokenWord) brokenWord = m[0];
        rects.push(...parts);
      }
    }
    rects.sort((a, b) => a.top - b.top);
    let lines = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 1) { lines += 1; }
      bottom = Math.max(bottom, r.bottom);
    }
    return {text: td.innerText.trim(), lines, brokenWord};
  })"""


@pytest.mark.parametrize("path", LISTS)
def test_lists_fit_a_phone(phone, path, screenshot_dir):
    page = phone
    log_in(page)
    page.goto(path)
    rows = page.locator("table.list-table tbody tr")
    expect(rows.first).to_be_visible()
    # The page never scrolls sideways (a wide table scrolls inside its own box, if at all).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    page.screenshot(path=str(screenshot_dir / f"phone-{path.rsplit('/', 1)[-1]}.png"), full_page=True)
    cells = page.evaluate(CELLS)
    assert cells
    for cell in cells:
        assert cell["brokenWord"] is None, f"{cell['text']!r} breaks the word {cell['brokenWord']!r}"
        # No value wraps at all: each is one line (a per-letter wrap would be many).
        assert cell["lines"] <= 1, f"{cell['text']!r} takes {cell['lines']} lines"
    # The edit link (the row's title) and the row's other actions are on screen, not
    # off to the right of a scrolled table.
    for action in (rows.first.locator("a.fw-semibold"), *rows.first.locator(".btn-group a").all()):
        box = action.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], \
            f"{action.inner_text()!r} is off screen at x={box and box['x']}"
    new = page.locator("main a.btn-primary").first
    box = new.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    # Low-priority columns are hidden; their data is a tap away, on the row's page.
    assert page.locator("table.list-table thead th:visible").count() < page.locator("table.list-table thead th").count()
    assert page.problems == []


def test_an_email_on_a_wide_screen_is_one_line_cut_with_its_full_text_in_the_title(page):
    log_in(page)
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto("/admin/users")
    email = page.locator("td.cell-email").first
    expect(email).to_be_visible()
    assert email.get_attribute("title") == email.inner_text().strip()
    style = email.evaluate("td => [getComputedStyle(td).whiteSpace, getComputedStyle(td).textOverflow,"
                           " getComputedStyle(td).wordBreak]")
    assert style == ["nowrap", "ellipsis", "normal"]


THEME = "document.documentElement.getAttribute('data-bs-theme')"


def test_the_theme_follows_the_system_until_chosen_and_is_remembered(browser, server):
    with open_page(browser, server, color_scheme="dark") as page:
        # Note the theme at the moment <body> starts: after <head>'s scripts, before anything is painted.
        page.add_init_script("""new MutationObserver((changes, observer) => {
            if (document.body) { window.themeAtFirstPaint = document.documentElement.getAttribute('data-bs-theme');
                                 observer.disconnect(); }
          }).observe(document, {childList: true, subtree: true});""")
        log_in(page)
        assert page.evaluate(THEME) == "dark"  # auto: as the system
        assert page.evaluate("window.themeAtFirstPaint") == "dark"
        # The system changes its mind: so does the page, at once.
        page.emulate_media(color_scheme="light")
        expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")

        # Choose dark in the navbar: applied, shown as chosen, remembered across pages and reloads.
        menu = page.get_by_role("button", name="Colour theme: Auto")
        menu.click()
        page.get_by_role("button", name="Dark", exact=True).click()
        expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
        expect(page.get_by_role("button", name="Colour theme: Dark")).to_be_visible()
        page.goto("/admin/users")
        assert page.evaluate(THEME) == "dark"
        assert page.evaluate("window.themeAtFirstPaint") == "dark"  # no flash of light
        page.emulate_media(color_scheme="light")
        page.reload()
        assert page.evaluate(THEME) == "dark"  # a choice outranks the system
        page.get_by_role("button", name="Colour theme: Dark").click()
        expect(page.get_by_role("button", name="Dark", exact=True)).to_have_attribute("aria-pressed", "true")

        # Light, then back to auto.
        page.get_by_role("button", name="Light", exact=True).click()
        expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
        page.emulate_media(color_scheme="dark")
        page.reload()
        assert page.evaluate(THEME) == "light"
        page.get_by_role("button", name="Colour theme: Light").click()
        page.get_by_role("button", name="Auto (as the system)").click()
        expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
        assert page.evaluate("localStorage.getItem('best_app.theme')") == "auto"
        # The login page has the menu too.
        page.goto("/admin/account")
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("button", name="Colour theme: Auto")).to_be_visible()
        assert page.problems == []
