"""The save flow: back to the list the admin came from with the row highlighted, the three
save buttons, a flash that links to the row, and a `back` that cannot leave the site."""
import html as html_lib
import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from sqlalchemy import select

from best_app.extensions import db
from best_app.models import Car, Task, User
from tests.admin.conftest import post_form
from tests.conftest import make_car, make_task, make_user

LISTING = "/admin/cars?q=o&sort=-model&limit=50"


def back_of(page) -> str:
    return html_lib.unescape(re.search(r'name="back" value="([^"]*)"', page.get_data(as_text=True)).group(1))


def parsed(url: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def flashes(client, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def test_create_returns_to_the_filtered_list_with_the_new_row_highlighted(logged_in_client):
    bob = make_user("bob")
    listing = f"{LISTING}&owner_id={bob.id}"
    html = logged_in_client.get(listing).get_data(as_text=True)
    new_link = html_lib.unescape(re.search(r'href="(/admin/cars/new\?[^"]+)"', html).group(1))
    page = logged_in_client.get(new_link)
    assert back_of(page) == listing
    response = post_form(logged_in_client, new_link, {"model": "Volvo", "owner_id": str(bob.id),
                                                      "back": back_of(page)})
    car = db.session.scalar(select(Car))
    assert response.status_code == 302
    assert response.location == f"{listing}&highlight={car.id}#row-{car.id}"
    html = flashes(logged_in_client, response.location)
    # The flash links to the new row; the row is marked and is the anchor scrolled to.
    assert f'Car <a class="alert-link" href="/admin/cars/{car.id}?back=' in html
    assert re.search(rf'<tr id="row-{car.id}" class="row-highlight" aria-current="true">', html)
    assert html.count("row-highlight") == 1
    assert "is not on this page" not in html
    # The list's own links do not carry the highlight along.
    assert "highlight" not in re.search(r'<a class="page-link" rel="first"[^>]*>', html).group(0) + \
        re.search(r'href="(/admin/cars\?[^"]*sort=model[^"]*)"', html).group(1)


def test_edit_returns_to_the_list_page_it_came_from(logged_in_client):
    bob = make_user("bob")
    cars = [make_car(bob, f"Model {n:02}") for n in range(30)]
    first = logged_in_client.get("/admin/cars?limit=25&sort=model").get_data(as_text=True)
    second_page = html_lib.unescape(re.search(r'<a class="page-link" rel="next"\s+href="([^"]+)"', first).group(1))
    html = logged_in_client.get(second_page).get_data(as_text=True)
    edit_link = html_lib.unescape(re.search(rf'href="(/admin/cars/{cars[27].id}\?back=[^"]+)"', html).group(1))
    page = logged_in_client.get(edit_link)
    assert back_of(page) == second_page
    response = post_form(logged_in_client, edit_link, {"model": "Model 27b", "owner_id": "bob", "version": "1",
                                                      "back": back_of(page)})
    assert response.location == f"{second_page}&highlight={cars[27].id}#row-{cars[27].id}"
    html = flashes(logged_in_client, response.location)
    assert "Car <a" in html and ">Model 27b</a> was saved." in html
    assert f'id="row-{cars[27].id}" class="row-highlight"' in html


def test_a_row_saved_off_the_page_it_returns_to_is_named_with_a_link(logged_in_client):
    make_task("Open one")
    task = make_task("Finish report")
    listing = "/admin/tasks?done=false"
    response = post_form(logged_in_client, f"/admin/tasks/{task.id}",
                         {"title": "Finish report", "done": "y", "version": "1", "back": listing})
    assert response.location == f"{listing}&highlight={task.id}#row-{task.id}"
    html = flashes(logged_in_client, response.location)
    assert "row-highlight" not in html
    assert re.search(rf'Task <a class="alert-link" href="/admin/tasks/{task.id}\?back=[^"]*">Finish report</a> '
                     r"is not on this page of the list", html)


def test_save_and_add_another_opens_a_new_form_with_the_same_back_and_owner(logged_in_client):
    bob = make_user("bob")
    listing = f"/admin/cars?owner_id={bob.id}&sort=model"
    response = post_form(logged_in_client, "/admin/cars/new", {
        "model": "Fiat", "owner_id": "bob", "back": listing, "then": "add"})
    assert response.status_code == 302
    assert parsed(response.location) == ("/admin/cars/new", {"back": listing, "owner_id": str(bob.id)})
    page = logged_in_client.get(response.location)
    html = page.get_data(as_text=True)
    assert "Car <a" in html and ">Fiat</a> was created." in html
    assert back_of(page) == listing
    assert 'name="owner_id" type="text" value="bob"' in html or 'value="bob"' in html
    assert db.session.scalar(select(Car.model)) == "Fiat"


def test_save_and_continue_editing_stays_on_the_row(logged_in_client):
    listing = "/admin/tasks?q=plan"
    response = post_form(logged_in_client, "/admin/tasks/new", {"title": "Plan trip", "back": listing,
                                                               "then": "edit"})
    task = db.session.scalar(select(Task))
    assert parsed(response.location) == (f"/admin/tasks/{task.id}", {"back": listing})
    page = logged_in_client.get(response.location)
    assert back_of(page) == listing
    assert ">Plan trip</a> was created." in page.get_data(as_text=True)
    response = post_form(logged_in_client, f"/admin/tasks/{task.id}", {"title": "Plan trips", "version": "1",
                                                                      "back": listing, "then": "edit"})
    assert parsed(response.location) == (f"/admin/tasks/{task.id}", {"back": listing})


def test_the_flash_escapes_the_title(logged_in_client):
    make_user("bob")
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "<script>x</script>", "owner_id": "bob"})
    html = flashes(logged_in_client, response.location)
    assert "<script>x</script>" not in html
    assert ">&lt;script&gt;x&lt;/script&gt;</a> was created." in html


def test_each_page_offers_the_three_buttons(logged_in_client):
    task = make_task("Plan trip")
    for url in ("/admin/tasks/new", f"/admin/tasks/{task.id}"):
        html = logged_in_client.get(url).get_data(as_text=True)
        for value, words in (("list", "Save" if "new" not in url else "Create task"), ("add", "Save and add another"),
                             ("edit", "Save and continue editing")):
            assert f'name="then" value="{value}">{words}</button>' in html, (url, value)


@pytest.mark.parametrize("hostile", [
    "//evil.example/admin/cars", "https://evil.example/admin/cars", "/\\evil.example", "\\/evil.example",
    "javascript:alert(1)", "JavaScript:alert(1)//", "http:/admin/cars", "/admin/cars\r\nLocation: http://evil",
    "admin/cars", "/%2F%2Fevil.example", "/admin/users", "/admin/tokens", "/admin/cars/1", "/admin/tasks",
    "/api/v1/cars", "/admin/logout", "/admin/cars/new", " /admin/cars", "/admin/cars/../users",
])
def test_a_back_that_is_not_this_resources_list_is_ignored(logged_in_client, hostile):
    make_user("bob")
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "Fiat", "owner_id": "bob", "back": hostile})
    car = db.session.scalar(select(Car))
    assert response.status_code == 302
    assert response.location == f"/admin/cars?highlight={car.id}#row-{car.id}"
    # The page does not offer it either (Cancel, breadcrumb).
    page = logged_in_client.get(f"/admin/cars/{car.id}?back={quote(hostile)}")
    assert back_of(page) == "/admin/cars"


def test_a_referenced_rows_page_is_a_valid_back(logged_in_client):
    bob = make_user("bob")
    user_page = f"/admin/users/{bob.id}?back=/admin/users?q%3Db"
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "Fiat", "owner_id": "bob",
                                                               "back": user_page})
    car = db.session.scalar(select(Car))
    assert parsed(response.location) == (f"/admin/users/{bob.id}", {"back": "/admin/users?q=b",
                                                                    "highlight": str(car.id)})
    assert response.location.endswith(f"#row-{car.id}")
    # ...but not for a resource that does not refer to users' pages that way: users refer to nobody.
    response = post_form(logged_in_client, f"/admin/users/{bob.id}", {
        "username": "bob", "email": "bob@example.com", "role": "employee", "version": "1",
        "back": f"/admin/cars/{car.id}"})
    assert response.location == f"/admin/users?highlight={bob.id}#row-{bob.id}"


def test_a_highlight_that_is_not_an_id_is_ignored(logged_in_client):
    make_user("bob")
    for value in ("x", "-1", "99999999999999999999", "1e3", ""):
        response = logged_in_client.get(f"/admin/users?highlight={value}")
        assert response.status_code == 200, value
        assert "row-highlight" not in response.get_data(as_text=True)
    assert logged_in_client.get("/admin/users?highlight=424242").status_code == 200  # no such row: no note
    assert db.session.scalar(select(User.username).where(User.username == "bob")) == "bob"



def test_a_prefilled_reference_past_any_id_leaves_the_field_empty(logged_in_client):
    # "Add a car" for ?owner_id=<digits>: past the database's integer range the lookup
    # failed in the driver (a 500); such an id names nobody.
    bob = make_user("bob")
    huge = "9" * 20
    for url in (f"/admin/cars/new?owner_id={huge}", f"/admin/tasks/new?assignee_id={huge}",
                "/admin/cars/new?back=" + quote(f"/admin/cars?owner_id={huge}") + f"&owner_id={huge}"):
        page = logged_in_client.get(url)
        assert page.status_code == 200, url
        assert re.search(r'name="(owner|assignee)_id"[^>]*value=""', page.get_data(as_text=True)), url
    # Save and add another from such a list keeps working.
    response = post_form(logged_in_client, "/admin/cars/new", {
        "model": "Fiat", "owner_id": str(bob.id), "back": f"/admin/cars?owner_id={huge}", "then": "add"})
    assert logged_in_client.get(response.location).status_code == 200
def test_a_long_back_is_left_out_of_the_flash_so_the_session_cookie_stays_small(logged_in_client):
    # A flash travels in the session cookie, which browsers cap at 4 KB; the list to return
    # to (up to 2,000 characters) goes in the redirect, and in the flash's link only when short.
    make_user("bob")
    short, long = "/admin/cars?q=" + "o" * 100, "/admin/cars?sort=-model&q=" + quote("ö" * 150)  # 915 long
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "Fiat", "owner_id": "bob", "back": short})
    car = db.session.scalar(select(Car))
    assert f'Car <a class="alert-link" href="/admin/cars/{car.id}?back=' in flashes(logged_in_client,
                                                                                 response.location)
    response = post_form(logged_in_client, f"/admin/cars/{car.id}", {
        "model": "Fiat", "owner_id": "bob", "version": "1", "back": long})
    assert parsed(response.location)[1]["q"] == "ö" * 150  # the redirect keeps all of it
    page = logged_in_client.get(response.location)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'Car <a class="alert-link" href="/admin/cars/{car.id}">Fiat</a> was saved.' in html
