"""Shared bits for the admin page tests."""
import pytest

from best_app.extensions import limiter
from tests.helpers import csrf_token


@pytest.fixture(autouse=True)
def _fresh_login_throttle(app):
    # Failed-login counters live in the limiter's storage (Redis when the
    # suite runs on real servers), which outlives a single test.
    limiter.reset()


def post_form(client, url: str, data: dict, form_url: str | None = None, **kwargs):
    """GET the page holding the form (for its CSRF token), then POST `data` to `url`."""
    page = client.get(form_url or url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_token(page), **data}, **kwargs)


def version_of(response) -> str:
    import re

    match = re.search(rb'name="version"[^>]*value="([^"]*)"', response.data) or \
        re.search(rb'value="([^"]*)"[^>]*name="version"', response.data)
    assert match, "no version field in the page"
    return match.group(1).decode()
