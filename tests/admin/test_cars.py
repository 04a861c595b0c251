"""Car pages: owner filter, the owner picker without JavaScript, conflicts and delete."""
import re

from sqlalchemy import select

from best_app.extensions import db
from best_app.models import Car
from tests.admin.conftest import post_form, version_of
from tests.conftest import make_car, make_user
from tests.helpers import csrf_token


def models(response) -> list[str]:
    return re.findall(r'href="/admin/cars/\d+(?:\?[^"]*)?">([^<]+)</a>', response.get_data(as_text=True))


def test_list_filters_by_owner_and_searches_model(logged_in_client):
    bob, eve = make_user("bob"), make_user("eve")
    make_car(bob, "Fiat 500")
    make_car(bob, "Volvo XC40")
    make_car(eve, "Fiat Panda")
    assert models(logged_in_client.get(f"/admin/cars?owner_id={bob.id}&sort=model")) == ["Fiat 500", "Volvo XC40"]
    assert models(logged_in_client.get("/admin/cars?q=fiat&sort=model")) == ["Fiat 500", "Fiat Panda"]
    assert models(logged_in_client.get(f"/admin/cars?q=fiat&owner_id={eve.id}")) == ["Fiat Panda"]
    page = logged_in_client.get(f"/admin/cars?owner_id={bob.id}").get_data(as_text=True)
    assert "Owner: bob" in page  # the active filter, removable
    assert f'name="owner_id" value="{bob.id}"' in page  # searching keeps the filter


def test_a_malformed_owner_filter_is_a_400_naming_it(logged_in_client):
    make_car(make_user("bob"))
    for value in ("abc", "-1", "0", "99999999999999999999", "١", "none"):
        response = logged_in_client.get("/admin/cars", query_string={"owner_id": value})
        assert response.status_code == 400, value
        assert "Query parameter &#39;owner_id&#39;: must be an id" in response.get_data(as_text=True)


def test_create_car_with_owner_typed_as_username_or_id(logged_in_client):
    bob = make_user("bob")
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "Fiat 500", "owner_id": "bob"})
    assert response.status_code == 302
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "Kia Ceed", "owner_id": str(bob.id)})
    assert response.status_code == 302
    assert [(c.model, c.owner_id) for c in db.session.scalars(select(Car).order_by(Car.id))] == \
        [("Fiat 500", bob.id), ("Kia Ceed", bob.id)]


def test_new_car_form_prefills_the_owner_from_the_user_page(logged_in_client):
    bob = make_user("bob")
    html = logged_in_client.get(f"/admin/cars/new?owner_id={bob.id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="owner_id"[^>]*value="bob"', html)
    assert 'data-lookup="/admin/lookup/users"' in html and 'list="owner_id-options"' in html


def test_unknown_owner_and_missing_model_are_explained_on_the_fields(logged_in_client):
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "  ", "owner_id": "ghost"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="model-errors"[^>]*><div>This field is required.', html)
    assert re.search(r"id=\"owner_id-errors\"[^>]*><div>No user with id or username &#39;ghost&#39;", html)
    assert 'value="ghost"' in html
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "Fiat", "owner_id": ""})
    assert "Choose the car&#39;s owner." in response.get_data(as_text=True)
    assert db.session.scalars(select(Car)).all() == []


def test_edit_car_and_conflict(logged_in_client):
    bob, eve = make_user("bob"), make_user("eve")
    car = make_car(bob, "Fiat 500")
    page = logged_in_client.get(f"/admin/cars/{car.id}")
    assert version_of(page) == "1" and re.search(r'id="owner_id"[^>]*value="bob"', page.get_data(as_text=True))
    response = logged_in_client.post(f"/admin/cars/{car.id}", data={
        "model": "Fiat 600", "owner_id": "eve", "version": "1", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert (car.model, car.owner_id, car.version) == ("Fiat 600", eve.id, 2)
    # The same stale form again: version 1 is gone.
    response = logged_in_client.post(f"/admin/cars/{car.id}", data={
        "model": "Stale", "owner_id": "bob", "version": "1", "csrf_token": csrf_token(page)})
    assert response.status_code == 409
    assert "Someone else changed this record" in response.get_data(as_text=True)
    db.session.expire_all()
    assert car.model == "Fiat 600"


def test_delete_car(logged_in_client):
    car = make_car(make_user("bob"), "Fiat 500")
    assert "Delete car Fiat 500?" in logged_in_client.get(f"/admin/cars/{car.id}/delete").get_data(as_text=True)
    response = post_form(logged_in_client, f"/admin/cars/{car.id}/delete", {"version": "1"})
    assert response.status_code == 302
    assert db.session.scalars(select(Car)).all() == []


def test_car_posts_without_csrf_change_nothing(logged_in_client):
    car = make_car(make_user("bob"), "Fiat 500")
    assert logged_in_client.post("/admin/cars/new", data={"model": "X", "owner_id": "bob"}).status_code == 400
    assert logged_in_client.post(f"/admin/cars/{car.id}", data={"model": "X", "owner_id": "bob"}).status_code == 400
    assert logged_in_client.post(f"/admin/cars/{car.id}/delete", data={"version": "1"}).status_code == 400
    db.session.expire_all()
    assert [c.model for c in db.session.scalars(select(Car))] == ["Fiat 500"]


def test_pages_by_change_time_cover_every_car_once(logged_in_client):
    bob = make_user("bob")
    db.session.add_all(Car(model=f"Model {n:02d}", owner=bob) for n in range(55))
    db.session.commit()
    seen, url = [], "/admin/cars?sort=-updated_at"
    while url:
        response = logged_in_client.get(url)
        html = response.get_data(as_text=True)
        seen.extend(models(response))
        match = re.search(r'rel="next"\s+href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert len(seen) == 55 and len(set(seen)) == 55


def test_an_owner_whose_username_is_digits_is_found_by_username(logged_in_client):
    make_user("filler")  # takes an id, so that "id 2" and "username 2..." differ
    owner = make_user("2024")
    response = post_form(logged_in_client, "/admin/cars/new", {"model": "Kia Ceed", "owner_id": "2024"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(Car)).owner_id == owner.id


def test_a_save_that_loses_a_race_on_the_owner_writes_nothing_and_says_why(logged_in_client):
    from sqlalchemy import delete, event

    from best_app.models import User

    owner = make_user("owner")
    owner_id = owner.id

    fired = []

    def owner_deleted_meanwhile(session, flush_context, instances):
        if not fired and any(isinstance(obj, Car) for obj in session.new):
            fired.append(True)
            session.execute(delete(User).where(User.id == owner_id))

    page = logged_in_client.get("/admin/cars/new")
    event.listen(db.session, "before_flush", owner_deleted_meanwhile)
    try:
        response = logged_in_client.post("/admin/cars/new", data={
            "model": "Orphan", "owner_id": "owner", "csrf_token": csrf_token(page)})
    finally:
        event.remove(db.session, "before_flush", owner_deleted_meanwhile)
    assert fired
    assert response.status_code == 400
    assert "Another change was saved at the same moment" in response.get_data(as_text=True)
    assert db.session.scalars(select(Car)).all() == []
