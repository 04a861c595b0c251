"""Shared bits for the admin page tests."""
import pytest
from flask import g, request_started

from best_app.extensions import limiter
from tests.helpers import csrf_token


@pytest.fixture(autouse=True)
def _fresh_login_throttle(app):
    # Failed-login counters live in the limiter's storage (Redis when the
    # suite runs on real servers), which outlives a single test.
    limiter.reset()


def _forget_request_state(sender, **extra):
    g.pop("_login_user", None)


@pytest.fixture(autouse=True)
def _fresh_g_per_request(app):
    # The app fixture keeps one app context open for the whole test, and a
    # request reuses it, so `g` (where Flask-Login caches the current user)
    # would outlive each request. In production every request starts clean;
    # so must each request here, or a logout or a lost admin flag goes unseen.
    request_started.connect(_forget_request_state, app)
    yield
    request_started.disconnect(_forget_request_state, app)


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
