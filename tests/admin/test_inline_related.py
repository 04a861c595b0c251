"""Rows that refer to a row, inline on its edit page: a user's cars and open tasks, "N more",
and adding one there without leaving the page. Derived from the registry's relations."""
import html as html_lib
import re

from sqlalchemy import select

from best_app.admin.related import SHOWN
from best_app.extensions import db
from best_app.models import Car, Task
from best_app.resources import REGISTRY, referrers
from tests.admin.forms import form_with
from tests.conftest import make_car, make_task, make_user


def section(html: str, name: str) -> str:
    start = html.index(f'aria-labelledby="related-{name}"')
    return html[start:html.index("</section>", start)]


def listed(part: str, name: str) -> list[str]:
    return re.findall(rf'<li[^>]*>\s*<a href="/admin/{name}/\d+\?back=[^"]+">([^<]+)</a>', part)


def test_a_users_page_lists_their_first_cars_and_open_tasks_with_how_many_more(logged_in_client):
    bob, eve = make_user("bob"), make_user("eve")
    for n in range(SHOWN + 2):
        make_car(bob, f"Car {n}")
    make_car(eve, "Not bob's")
    make_task("Done already", bob, done=True)
    make_task("Open one", bob)
    make_task("Eve's", eve)
    html = logged_in_client.get(f"/admin/users/{bob.id}").get_data(as_text=True)

    cars = section(html, "cars")
    assert listed(cars, "cars") == [f"Car {n}" for n in range(SHOWN)]
    assert f'<a href="/admin/cars?owner_id={bob.id}">2 more</a>' in cars
    assert f'<a href="/admin/cars?owner_id={bob.id}">Cars of bob</a>' in cars

    tasks = section(html, "tasks")
    assert listed(tasks, "tasks") == ["Open one"]
    assert "(open)" in tasks
    assert "more</a>" not in tasks
    # The rows link to their pages, which return here.
    back = html_lib.unescape(re.search(r'<a href="/admin/tasks/\d+\?back=([^"]+)">Open one', tasks).group(1))
    assert back.startswith(f"/admin/users/{bob.id}")


def test_n_more_links_to_the_filtered_list(logged_in_client):
    bob = make_user("bob")
    for n in range(SHOWN + 3):
        make_task(f"Task {n}", bob)
    make_task("Done", bob, done=True)
    tasks = section(logged_in_client.get(f"/admin/users/{bob.id}").get_data(as_text=True), "tasks")
    link = html_lib.unescape(re.search(r'<a href="([^"]+)">3 more</a>', tasks).group(1))
    assert link == f"/admin/tasks?assignee_id={bob.id}&done=false"
    assert len(re.findall(r'href="/admin/tasks/\d+\?', logged_in_client.get(link).get_data(as_text=True))) == SHOWN + 3


def test_adding_a_car_inline_returns_to_the_users_page_with_it_highlighted(logged_in_client):
    bob = make_user("bob")
    page = logged_in_client.get(f"/admin/users/{bob.id}?back=/admin/users?q%3Dbo")
    fields = form_with(page, "model")
    assert fields["owner_id"] == str(bob.id) and "username" not in fields
    response = logged_in_client.post("/admin/cars/new", data={**fields, "model": "Fiat 500"})
    car = db.session.scalar(select(Car))
    assert (car.model, car.owner_id) == ("Fiat 500", bob.id)
    assert response.status_code == 302
    assert response.location.startswith(f"/admin/users/{bob.id}?back=")
    assert response.location.endswith(f"&highlight={car.id}#row-{car.id}")
    html = logged_in_client.get(response.location).get_data(as_text=True)
    assert ">Fiat 500</a> was created." in html
    assert re.search(rf'<li id="row-{car.id}" class="row-highlight"', html)
    # The user's page still returns to the list it came from.
    assert 'name="back" value="/admin/users?q=bo"' in html


def test_assigning_a_new_task_inline(logged_in_client):
    bob = make_user("bob")
    fields = form_with(logged_in_client.get(f"/admin/users/{bob.id}"), "title")
    assert fields["assignee_id"] == str(bob.id)
    response = logged_in_client.post("/admin/tasks/new", data={**fields, "title": "Call the garage",
                                                              "description": "Line one\r\nLine two"})
    assert response.status_code == 302
    task = db.session.scalar(select(Task))
    assert (task.title, task.assignee_id, task.done) == ("Call the garage", bob.id, False)
    assert "Call the garage" in section(logged_in_client.get(response.location).get_data(as_text=True), "tasks")


def test_an_invalid_inline_add_shows_the_full_form_with_its_errors(logged_in_client):
    bob = make_user("bob")
    fields = form_with(logged_in_client.get(f"/admin/users/{bob.id}"), "model")
    response = logged_in_client.post("/admin/cars/new", data={**fields, "model": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="model-errors"' in html
    assert f'name="back" value="/admin/users/{bob.id}' in html  # and it still returns to the user's page
    assert db.session.scalars(select(Car)).all() == []


def test_the_inline_forms_ids_do_not_clash_with_the_page(logged_in_client):
    bob = make_user("bob")
    html = logged_in_client.get(f"/admin/users/{bob.id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert '<label class="form-label" for="new-car-model">Model</label>' in html


def test_every_resource_referred_to_shows_its_referrers(logged_in_client):
    # Derived from the registry, not written per resource: every referrer of every resource.
    bob = make_user("bob")
    car = make_car(bob)
    task = make_task("x", bob)
    rows = {"users": bob, "cars": car, "tasks": task}
    for name, resource in REGISTRY.items():
        html = logged_in_client.get(f"/admin/{name}/{rows[name].id}").get_data(as_text=True)
        shown = set(re.findall(r'aria-labelledby="related-([a-z_]+)"', html))
        assert shown == {other.name for other, _field in referrers(name)}, name
