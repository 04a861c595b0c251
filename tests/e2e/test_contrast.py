"""Colour contrast (WCAG AA) of every admin page, in the light and the dark theme.

axe-core (vendored as a test asset under tests/e2e/vendor) checks every piece
of text against what is painted behind it: 4.5:1, or 3:1 for large text. Any
violation fails, with the element, its colours and the ratio found. Only the
contrast rule runs: this test is about colours, not the whole of accessibility.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pages import admin_pages, log_in, open_page

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
RUN_CONTRAST = """async () => {
  const result = await axe.run(document, {runOnly: {type: "rule", values: ["color-contrast"]},
                                          resultTypes: ["violations"]});
  return result.violations.flatMap(v => v.nodes.map(
    n => n.target.join(" ") + ": " + n.any.map(c => c.message).join("; ")));
}"""


def contrast_problems(page) -> list[str]:
    # Evaluated through the DevTools protocol, which the page's CSP does not govern
    # (a <script> tag would be refused, and rightly).
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(RUN_CONTRAST)


@pytest.fixture
def themed_page(browser, server, request):
    """A page whose browser prefers `request.param` (the default theme follows it)."""
    # Reduced motion: Bootstrap then has no colour transitions, so no check lands mid-fade.
    with open_page(browser, server, viewport={"width": 1280, "height": 860}, color_scheme=request.param,
                   reduced_motion="reduce") as page:
        page.scheme = request.param
        yield page


@pytest.mark.parametrize("themed_page", ["light", "dark"], indirect=True)
def test_every_admin_page_meets_aa_contrast(themed_page):
    page = themed_page
    page.goto("/admin/login")
    failures = {}
    theme = page.evaluate("document.documentElement.getAttribute('data-bs-theme')")
    assert theme == page.scheme  # the default theme follows the system's
    found = contrast_problems(page)
    if found:
        failures["/admin/login"] = found
    log_in(page)
    page.goto("/admin/tokens")
    if page.locator("main a", has_text="Revoke…").count() == 0:  # a token, for the revoke page
        page.get_by_label("User").fill("e2e.admin")
        page.get_by_role("button", name="Create token").click()
        page.locator("#new-secret").wait_for()
        found = contrast_problems(page)  # the alert that shows a new secret
        if found:
            failures["/admin/tokens (new secret)"] = found
    paths = admin_pages(page)
    assert len(paths) >= 12, paths  # dashboard, 3 resources x 3 pages, changes, tokens, audit, account...
    assert "/admin/account" in paths
    for path in paths:
        page.goto(path)
        assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == theme
        found = contrast_problems(page)
        if found:
            failures[path] = found[:5] + ([f"... and {len(found) - 5} more"] if len(found) > 5 else [])
    page.goto("/admin/")
    page.locator("#theme-menu").click()  # the open theme menu, over the page
    page.locator(".theme-menu .dropdown-menu").wait_for()
    found = contrast_problems(page)
    if found:
        failures["/admin/ (theme menu open)"] = found
    assert failures == {}, "\n".join(f"{path}\n  " + "\n  ".join(lines) for path, lines in failures.items())
    assert page.problems == []
