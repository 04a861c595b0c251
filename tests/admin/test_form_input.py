"""Every field of every admin form takes text only: a file part, a JSON body or a
control character is refused on the field (400), never a 500, and nothing is saved."""
import io

import pytest
from sqlalchemy import select
from wtforms import HiddenField, StringField, TextAreaField

from best_app.extensions import db
from best_app.forms import CarForm, LoginForm, TaskForm, TokenForm, UserForm
from best_app.models import ApiToken, Car, Task, User
from tests.admin.conftest import post_form
from tests.conftest import make_car, make_task, make_user
from tests.helpers import csrf_token

NOT_TEXT = "Must be text, not a file."


def rows() -> dict:
    """What a refused post must leave as it was: row counts and versions."""
    return {model.__name__: sorted(db.session.execute(select(model.id, getattr(model, "version", model.id))).all())
            for model in (User, Car, Task, ApiToken)}


def valid_post(name: str):
    """(url, form class, valid data) for the admin form `name`, with its rows made."""
    bob = make_user("bob")
    if name == "user-new":
        return "/admin/users/new", UserForm, {"username": "newbie", "email": "newbie@example.com",
                                              "name": "Newton", "role": "employee", "password": "long enough"}
    if name == "user-edit":
        return f"/admin/users/{bob.id}", UserForm, {"username": "bob", "email": "bob@example.com", "name": "Bob",
                                                    "role": "employee", "version": "1"}
    if name == "car-new":
        return "/admin/cars/new", CarForm, {"model": "Fiat 500", "owner_id": "bob"}
    if name == "car-edit":
        return f"/admin/cars/{make_car(bob).id}", CarForm, {"model": "Fiat 500", "owner_id": "bob", "version": "1"}
    if name == "task-new":
        return "/admin/tasks/new", TaskForm, {"title": "Wash", "description": "Both sides", "assignee_id": "bob",
                                              "done": "y"}
    if name == "task-edit":
        return f"/admin/tasks/{make_task('t', bob).id}", TaskForm, {"title": "Wash", "description": "d",
                                                                    "assignee_id": "bob", "version": "1"}
    if name == "token":
        return "/admin/tokens", TokenForm, {"user_id": "bob", "name": "script"}
    raise AssertionError(name)


FORMS = ["user-new", "user-edit", "car-new", "car-edit", "task-new", "task-edit", "token"]


def field_names(form_class) -> list[str]:
    form = form_class(formdata=None, meta={"csrf": False})
    return [field.name for field in form]


@pytest.mark.parametrize("name", FORMS)
def test_a_file_in_any_field_is_refused_on_that_field(logged_in_client, name):
    url, form_class, data = valid_post(name)
    before = rows()
    for field in field_names(form_class):
        upload = {**data, field: (io.BytesIO(b"<script>alert(1)</script>"), "evil.txt")}
        response = post_form(logged_in_client, url, upload, content_type="multipart/form-data")
        assert response.status_code == 400, (field, response.status_code)
        html = response.get_data(as_text=True)
        if field != "version":  # hidden: the page shows no field for it
            assert f'id="{field}-errors"' in html and NOT_TEXT in html, field
        assert rows() == before, field


def test_a_file_in_the_login_form_is_refused_on_the_field(client, admin_user):
    for field in field_names(LoginForm):
        page = client.get("/admin/login")
        data = {"login": "admin", "password": "whatever", "csrf_token": csrf_token(page),
                field: (io.BytesIO(b"admin"), "login.txt")}
        response = client.post("/admin/login", data=data, content_type="multipart/form-data")
        assert response.status_code == 400, field
        assert f'id="{field}-errors"' in response.get_data(as_text=True), field
        assert NOT_TEXT in response.get_data(as_text=True)


@pytest.mark.parametrize("body", ['{"login": ' * 1000 + '"a"' + "}" * 1000, "[1, 2]", '"admin"', "3",
                                  '{"login": {"user": "admin"}, "password": ["x"]}'],
                         ids=["nested", "list", "string", "number", "object-values"])
def test_a_json_body_to_a_form_is_a_form_with_no_fields(client, admin_user, body):
    page = client.get("/admin/login")
    response = client.post("/admin/login", data=body, content_type="application/json",
                           headers={"X-CSRFToken": csrf_token(page)})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)


# The single-line text fields of the forms that store what they take.
SINGLE_LINE = {"user-new": ["username", "email", "name", "password"], "car-new": ["model"],
               "task-new": ["title"], "token": ["name"]}


def test_every_single_line_text_field_is_covered(app):
    for name, fields in SINGLE_LINE.items():
        form_class = {"user-new": UserForm, "car-new": CarForm, "task-new": TaskForm, "token": TokenForm}[name]
        form = form_class(formdata=None, meta={"csrf": False})
        text = [f.name for f in form if isinstance(f, StringField) and not isinstance(f, (HiddenField, TextAreaField))]
        assert sorted(text) == sorted(fields), name


@pytest.mark.parametrize("name,field", [(name, field) for name, fields in SINGLE_LINE.items() for field in fields])
@pytest.mark.parametrize("character", ["\x07", "\x1b", "\n", "\t", "\x7f", "\x00"])
def test_control_characters_in_single_line_fields_are_refused_on_the_field(logged_in_client, name, field, character):
    url, _form_class, data = valid_post(name)
    before = rows()
    value = f"{data[field][:3]}{character}{data[field][3:]}"
    response = post_form(logged_in_client, url, {**data, field: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in html
    assert f"Must not contain control characters; found U+{ord(character):04X} at position 4." in html
    assert rows() == before


def test_the_task_description_keeps_tabs_and_line_breaks_but_no_other_control_character(logged_in_client):
    url, _form_class, data = valid_post("task-new")
    response = post_form(logged_in_client, url, {**data, "description": "a\x07b"})
    assert response.status_code == 400 and "found U+0007 at position 2" in response.get_data(as_text=True)
    response = post_form(logged_in_client, url, {**data, "description": "col\tcol\r\nnext line\n"})
    assert response.status_code == 302
    assert db.session.scalar(select(Task.description)) == "col\tcol\r\nnext line\n"


def test_the_login_form_refuses_control_characters_on_the_field(client, admin_user):
    page = client.get("/admin/login")
    response = client.post("/admin/login", data={"login": "ad\x07min", "password": "x",
                                                 "csrf_token": csrf_token(page)})
    assert response.status_code == 400
    assert 'id="login-errors"' in response.get_data(as_text=True)
