"""Every admin page is for logged-in admins only, and none of them may be cached."""
import pytest

from tests.conftest import ADMIN_PASSWORD, login, make_user
from tests.helpers import csrf_token


def _admin_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and rule.endpoint not in {"admin.login", "static"}:
            yield rule


def _url(rule) -> str:
    return rule.rule.replace("<int:", "<").split("<")[0] + ("1" if "<" in rule.rule else "") + \
        (rule.rule.split(">", 1)[1] if ">" in rule.rule else "")


def test_every_admin_route_sends_anonymous_users_to_login(app, client):
    make_user("someone")
    rules = list(_admin_routes(app))
    assert len(rules) >= 15  # the walk would pass vacuously if routes were not found
    token = csrf_token(client.get("/admin/login"))  # so that POSTs reach the guard, not the CSRF check
    for rule in rules:
        url = _url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.location.startswith("/admin/login?next="), (method, url)


def test_every_admin_route_refuses_a_non_admin_session(app, client):
    # A session for a user who is not (or no longer) an admin, as if they had
    # logged in before losing the flag.
    bob = make_user("bob", password="bobs password")
    with client.session_transaction() as session:
        session["_user_id"] = str(bob.id)
        session["_fresh"] = True
    checked = 0
    for rule in _admin_routes(app):
        if "GET" in rule.methods:
            response = client.get(_url(rule))
            assert response.status_code == 302, rule.rule
            assert response.location.startswith("/admin/login"), rule.rule
            checked += 1
    assert checked >= 10


def test_pages_are_never_cached_and_carry_security_headers(logged_in_client):
    for url in ("/admin/", "/admin/users", "/admin/users/new", "/admin/tokens", "/admin/login"):
        response = logged_in_client.get(url, follow_redirects=False)
        assert response.headers["Cache-Control"] == "no-store", url
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]


def test_pages_have_no_inline_scripts_or_styles(logged_in_client):
    import re

    for url in ("/admin/", "/admin/users", "/admin/cars/new", "/admin/tasks/new", "/admin/tokens"):
        html = logged_in_client.get(url).get_data(as_text=True)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], url
        assert " style=" not in html and "<style" not in html, url
        assert re.search(r"\son[a-z]+=", html) is None, url


@pytest.mark.parametrize("path", ["/admin/users/99999", "/admin/cars/99999", "/admin/tasks/99999/delete",
                                  "/admin/users/99999999999999999999999", "/admin/nothing-here"])
def test_unknown_records_get_the_404_page(logged_in_client, path):
    response = logged_in_client.get(path)
    assert response.status_code == 404
    assert b"Page not found" in response.data


def test_wrong_method_gets_the_405_page(logged_in_client):
    response = logged_in_client.put("/admin/tokens")
    assert response.status_code == 405
    assert b"Method not allowed" in response.data
    assert "POST" in response.headers["Allow"]


def test_login_page_is_public(client, app):
    assert client.get("/admin/login").status_code == 200
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 401
