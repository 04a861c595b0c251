"""No input, however hostile or large, causes a 500; whatever is stored renders escaped."""
import pytest
from sqlalchemy import select

from best_app.extensions import db
from best_app.resources import REGISTRY
from best_app.models import Task, User
from tests.admin.conftest import post_form
from tests.conftest import make_car, make_task, make_user

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}{% raw %}",
    "Ωmega ünïcødé 🚗 漢字 \u202etxet",
    "'; DROP TABLE users; --",
    "\x00nul",
    "x" * 100_000,  # over MAX_CONTENT_LENGTH as a form body: refused with 413
    "y" * 12_000,  # under it: reaches every validator
    "9" * 30,
    "\r\n\t",
    "%_\\",
]
SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_forms_never_fail_on_hostile_values(logged_in_client, value):
    user = make_user("bob")
    car = make_car(user)
    task = make_task("t", user)
    cases = [
        ("/admin/users/new", {"username": value, "email": value, "name": value, "role": value, "password": value}),
        (f"/admin/users/{user.id}", {"username": "bob", "email": "bob@example.com", "name": value,
                                     "role": "employee", "version": value}),
        ("/admin/cars/new", {"model": value, "owner_id": value}),
        (f"/admin/cars/{car.id}", {"model": value, "owner_id": "bob", "version": "1"}),
        ("/admin/tasks/new", {"title": value, "description": value, "assignee_id": value, "done": value}),
        (f"/admin/tasks/{task.id}/delete", {"version": value}),
        ("/admin/tokens", {"user_id": value, "name": value}),
        ("/admin/login", {"login": value, "password": value}),
    ]
    for url, data in cases:
        response = post_form(logged_in_client, url, data, form_url="/admin/users/new")
        assert response.status_code < 500, (url, response.status_code)
        assert SCRIPT.encode() not in response.data
    # A list's parameters are the API's: a value that is not one the parameter takes is
    # a 400 page naming the parameter, never a 500 or an echo of the value unescaped.
    for resource in REGISTRY.values():
        url = f"/admin/{resource.name}"
        for name in ("q", "sort", "cursor", "limit", *resource.filters):
            response = logged_in_client.get(url, query_string={name: value})
            assert response.status_code in (200, 400), (url, name, response.status_code)
            if response.status_code == 400:
                assert f"Query parameter &#39;{name}&#39;" in response.get_data(as_text=True), (url, name)
            assert SCRIPT.encode() not in response.data


def test_stored_text_round_trips_exactly_and_renders_escaped(logged_in_client):
    name = 'Ωmega "quoted" <script>alert(1)</script> & 🚗'
    description = "line one\nline two <b>bold?</b>\n  indented"
    response = post_form(logged_in_client, "/admin/users/new",
                         {"username": "hostile", "email": "hostile@example.com", "name": name, "role": "employee"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "hostile"))
    assert user.name == name
    response = post_form(logged_in_client, "/admin/tasks/new",
                         {"title": SCRIPT, "description": description, "assignee_id": "hostile"})
    assert response.status_code == 302
    task = db.session.scalar(select(Task))
    assert (task.title, task.description) == (SCRIPT, description)
    make_car(user, SCRIPT)
    for url in ("/admin/users", f"/admin/users/{user.id}", "/admin/tasks", f"/admin/tasks/{task.id}",
                "/admin/cars", f"/admin/users/{user.id}/delete", "/admin/", "/admin/users?q=%3Cscript"):
        html = logged_in_client.get(url).get_data(as_text=True)
        assert SCRIPT not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
    edit = logged_in_client.get(f"/admin/tasks/{task.id}").get_data(as_text=True)
    assert "line one\nline two &lt;b&gt;bold?&lt;/b&gt;\n  indented</textarea>" in edit


def test_oversized_body_is_refused_cleanly(logged_in_client):
    response = logged_in_client.post("/admin/users/new", data={"name": "x" * 200_000})
    assert response.status_code == 413
    assert b"<!doctype html>" in response.data


def test_nul_characters_are_refused_on_the_field(logged_in_client):
    response = post_form(logged_in_client, "/admin/tasks/new", {"title": "ok", "description": "a\x00b"})
    assert response.status_code == 400
    assert "Must not contain control characters; found U+0000 at position 2." in response.get_data(as_text=True)
    assert db.session.scalars(select(Task)).all() == []
