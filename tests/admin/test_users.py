"""User pages: list, search, sort, pages, create, edit, conflicts and delete."""
import re

from sqlalchemy import event, select, text

from best_app.extensions import db
from best_app.models import ApiToken, Car, Task, User
from tests.admin.conftest import post_form, version_of
from tests.conftest import make_car, make_task, make_user

VALID = {"username": "dora", "email": "dora@example.com", "name": "Dora Explorer", "role": "teacher",
         "password": ""}


def usernames(response) -> list[str]:
    return re.findall(r'href="/admin/users/\d+(?:\?[^"]*)?">([^<]+)</a>', response.get_data(as_text=True))


def test_list_links_each_user_to_their_cars_and_tasks(logged_in_client):
    bob = make_user("bob")
    html = logged_in_client.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/cars?owner_id={bob.id}"' in html
    assert f'href="/admin/tasks?assignee_id={bob.id}"' in html


def test_search_matches_username_email_and_name_case_insensitively(logged_in_client):
    make_user("bob", name="Robert Smith")
    make_user("carol", email="carol@corp.test", name="Carol King")
    make_user("dave", name="Dave")
    assert usernames(logged_in_client.get("/admin/users?q=BOB")) == ["bob"]
    assert usernames(logged_in_client.get("/admin/users?q=corp.TEST")) == ["carol"]
    assert usernames(logged_in_client.get("/admin/users?q=smith")) == ["bob"]
    empty = logged_in_client.get("/admin/users?q=zzz")
    assert usernames(empty) == [] and "No users match" in empty.get_data(as_text=True)


def test_search_treats_like_wildcards_literally(logged_in_client):
    make_user("a_b", name="Under Score")
    make_user("axb", name="Plain")
    assert usernames(logged_in_client.get("/admin/users?q=a_b")) == ["a_b"]
    assert usernames(logged_in_client.get("/admin/users?q=%25")) == []
    make_user("slash", name="back\\slash")
    assert usernames(logged_in_client.get("/admin/users", query_string={"q": "k\\s"})) == ["slash"]


def test_sorting_by_column_headers(logged_in_client):
    for name, username in [("Zed", "anna"), ("Amy", "zoe"), ("Mia", "mike")]:
        make_user(username, name=name)
    assert usernames(logged_in_client.get("/admin/users?sort=username")) == ["admin", "anna", "mike", "zoe"]
    assert usernames(logged_in_client.get("/admin/users?sort=-username")) == ["zoe", "mike", "anna", "admin"]
    assert usernames(logged_in_client.get("/admin/users?sort=name"))[:2] == ["admin", "zoe"]  # "Admin", "Amy"
    html = logged_in_client.get("/admin/users?sort=username").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    assert 'href="/admin/users?sort=-username"' in html  # clicking again reverses


def test_an_unknown_sort_is_a_400_naming_it(logged_in_client):
    make_user("bob")
    response = logged_in_client.get("/admin/users?sort=password_hash")
    assert response.status_code == 400
    assert "Query parameter &#39;sort&#39;: must be one of" in response.get_data(as_text=True)


def _walk(client, url, link):
    seen, pages = [], 0
    while url:
        response = client.get(url)
        seen.extend(usernames(response))
        pages += 1
        match = re.search(rf'rel="{link}"\s+href="([^"]+)"', response.get_data(as_text=True))
        url = match.group(1).replace("&amp;", "&") if match else None
    return seen, pages


def test_pages_walk_forwards_and_back_over_every_row_once(logged_in_client):
    db.session.add_all(User(username=f"user{n:03d}", email=f"u{n}@example.com", name=f"Same {n % 3}")
                       for n in range(60))
    db.session.commit()
    # Name has duplicates: the id tie-break must still give each row exactly once.
    forward, pages = _walk(logged_in_client, "/admin/users?sort=-name&q=user", "next")
    assert pages == 3 and len(forward) == 60 and len(set(forward)) == 60
    last_page = logged_in_client.get("/admin/users?sort=-name&q=user")
    for _ in range(2):
        href = re.search(r'rel="next"\s+href="([^"]+)"', last_page.get_data(as_text=True)).group(1)
        last_page = logged_in_client.get(href.replace("&amp;", "&"))
    assert re.search(r'rel="next"\s+aria-disabled="true"', last_page.get_data(as_text=True))
    backward_url = re.search(r'rel="prev"\s+href="([^"]+)"', last_page.get_data(as_text=True)).group(1)
    backward, pages = _walk(logged_in_client, backward_url.replace("&amp;", "&"), "prev")
    # Walking back visits the middle page, then the first, each in display order.
    assert pages == 2 and backward == forward[25:50] + forward[:25]


def test_last_page_and_back_from_it(logged_in_client):
    db.session.add_all(User(username=f"user{n:03d}", email=f"u{n}@example.com") for n in range(60))
    db.session.commit()
    first = logged_in_client.get("/admin/users?q=user&sort=username")
    assert usernames(first) == [f"user{n:03d}" for n in range(25)]
    href = re.search(r'rel="last"\s+href="([^"]+)"', first.get_data(as_text=True)).group(1)
    last = logged_in_client.get(href.replace("&amp;", "&"))
    assert usernames(last) == [f"user{n:03d}" for n in range(35, 60)]  # the last 25, in order
    html = last.get_data(as_text=True)
    assert re.search(r'rel="last"\s+aria-disabled="true"', html)
    href = re.search(r'rel="prev"\s+href="([^"]+)"', html).group(1)
    assert usernames(logged_in_client.get(href.replace("&amp;", "&"))) == [f"user{n:03d}" for n in range(10, 35)]
    assert "<strong>60</strong> of 61 users" in html  # the count of matching rows, and of all


def test_page_size_is_a_choice_kept_with_the_search(logged_in_client):
    db.session.add_all(User(username=f"user{n:03d}", email=f"u{n}@example.com") for n in range(60))
    db.session.commit()
    page = logged_in_client.get("/admin/users?q=user&limit=50")
    assert len(usernames(page)) == 50
    html = page.get_data(as_text=True)
    assert '<option value="50" selected>' in html
    assert re.search(r'rel="next"\s+href="/admin/users\?q=user&amp;limit=50&amp;cursor=', html)


def test_a_tampered_cursor_is_a_400_naming_it(logged_in_client):
    response = logged_in_client.get("/admin/users?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "Query parameter &#39;cursor&#39;" in response.get_data(as_text=True)


def test_create_user(logged_in_client):
    response = post_form(logged_in_client, "/admin/users/new", {**VALID, "password": "long enough"})
    user = db.session.scalar(select(User).where(User.username == "dora"))
    assert response.status_code == 302 and response.location == f"/admin/users?highlight={user.id}#row-{user.id}"
    assert (user.email, user.name, user.role, user.is_admin) == ("dora@example.com", "Dora Explorer", "teacher", False)
    assert user.check_password("long enough")
    assert f'User <a class="alert-link" href="/admin/users/{user.id}?back=/admin/users">dora</a> was created.' in \
        logged_in_client.get("/admin/users").get_data(as_text=True)


def test_invalid_create_shows_errors_next_to_fields_and_keeps_values(logged_in_client):
    response = post_form(logged_in_client, "/admin/users/new",
                         {**VALID, "username": "no spaces!", "email": "not-an-email", "password": "short"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="username-errors"[^>]*>.*Use only letters', html, re.S)
    assert re.search(r'id="email-errors"[^>]*>.*Invalid email', html, re.S)
    assert 'id="password-errors"' in html
    assert 'value="no spaces!"' in html and 'value="Dora Explorer"' in html
    assert 'aria-describedby="username-errors"' in html
    assert db.session.scalar(select(User).where(User.username == "no spaces!")) is None


def test_duplicate_username_and_email_are_shown_on_the_fields(logged_in_client):
    make_user("dora", email="DORA@example.com")
    response = post_form(logged_in_client, "/admin/users/new", VALID)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="username-errors"[^>]*><div>This username is already taken.', html)
    assert re.search(r'id="email-errors"[^>]*><div>A user with this email already exists.', html)


def test_edit_user_keeps_the_password_when_left_empty(logged_in_client):
    bob = make_user("bob", password="bobs password")
    url = f"/admin/users/{bob.id}"
    assert 'value="bob"' in logged_in_client.get(url).get_data(as_text=True)
    response = post_form(logged_in_client, url, {**VALID, "username": "robert", "version": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    bob = db.session.get(User, bob.id)
    assert (bob.username, bob.version) == ("robert", 2)
    assert bob.check_password("bobs password")


def test_saving_over_a_newer_version_is_a_conflict_and_overwrites_nothing(logged_in_client):
    bob = make_user("bob", name="Bob")
    url = f"/admin/users/{bob.id}"
    page = logged_in_client.get(url)
    assert version_of(page) == "1"
    bob.name = "Changed elsewhere"  # someone else saves first
    db.session.commit()
    from tests.helpers import csrf_token
    response = logged_in_client.post(url, data={**VALID, "username": "bob", "name": "Mine",
                                                "version": "1", "csrf_token": csrf_token(page)})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else changed this record" in html
    assert "Changed elsewhere" in html  # what is saved now
    assert 'value="Mine"' in html  # what they typed is kept
    assert version_of(response) == "2"  # the next save is a deliberate overwrite
    db.session.expire_all()
    assert db.session.get(User, bob.id).name == "Changed elsewhere"


def test_a_write_that_lands_between_check_and_save_is_a_conflict_too(logged_in_client):
    bob = make_user("bob", name="Bob")

    def concurrent_writer(session, flush_context, instances):
        # Another transaction updates the row after our version check passed.
        session.connection().execute(text("UPDATE users SET name = 'Theirs', version = version + 1 "
                                          "WHERE username = 'bob'"))

    page = logged_in_client.get(f"/admin/users/{bob.id}")
    from tests.helpers import csrf_token
    event.listen(db.session, "before_flush", concurrent_writer)
    try:
        response = logged_in_client.post(f"/admin/users/{bob.id}", data={
            **VALID, "username": "bob", "name": "Mine", "version": "1", "csrf_token": csrf_token(page)})
    finally:
        event.remove(db.session, "before_flush", concurrent_writer)
    assert response.status_code == 409
    assert "Someone else changed this record" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, bob.id).name != "Mine"


def test_an_admin_cannot_remove_their_own_admin_rights(logged_in_client, admin_user):
    response = post_form(logged_in_client, f"/admin/users/{admin_user.id}",
                         {"username": "admin", "email": "admin@example.com", "role": "employee", "version": "1"})
    assert response.status_code == 400
    assert "You cannot remove your own administrator rights." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin_user.id).is_admin


def test_delete_preview_lists_what_goes_and_what_is_unassigned(logged_in_client):
    bob = make_user("bob")
    make_car(bob, "Fiat 500")
    make_car(bob, "Volvo XC40")
    make_task("Wash car", bob)
    ApiToken.issue(bob)
    db.session.commit()
    page = logged_in_client.get(f"/admin/users/{bob.id}/delete")
    html = page.get_data(as_text=True)
    assert "2 cars will be deleted" in html and "Fiat 500" in html and "Volvo XC40" in html
    assert "1 task will be unassigned" in html and "Wash car" in html
    assert "1 API token will be deleted too" in html
    bob_id = bob.id
    previewed = re.search(r'name="previewed" value="([^"]*)"', html).group(1)
    response = post_form(logged_in_client, f"/admin/users/{bob_id}/delete",
                         {"version": "1", "previewed": previewed})
    assert response.status_code == 302 and response.location == "/admin/users"
    db.session.expire_all()
    assert db.session.get(User, bob_id) is None
    assert db.session.scalars(select(Car)).all() == []
    task = db.session.scalar(select(Task))
    assert task.assignee_id is None and task.version == 2
    assert db.session.scalars(select(ApiToken)).all() == []


def test_delete_after_a_change_asks_again(logged_in_client):
    bob = make_user("bob")
    page = logged_in_client.get(f"/admin/users/{bob.id}/delete")
    bob.name = "Renamed"
    db.session.commit()
    from tests.helpers import csrf_token
    response = logged_in_client.post(f"/admin/users/{bob.id}/delete",
                                     data={"version": "1", "csrf_token": csrf_token(page)})
    assert response.status_code == 409
    assert "changed after you opened this page" in response.get_data(as_text=True)
    assert db.session.get(User, bob.id) is not None


def test_a_car_added_after_the_preview_is_not_deleted_unseen(logged_in_client):
    bob = make_user("bob")
    make_car(bob, "Fiat 500")
    page = logged_in_client.get(f"/admin/users/{bob.id}/delete")
    previewed = re.search(r'name="previewed" value="([^"]*)"', page.get_data(as_text=True)).group(1)
    make_car(bob, "Added meanwhile")
    from tests.helpers import csrf_token
    response = logged_in_client.post(f"/admin/users/{bob.id}/delete", data={
        "version": "1", "previewed": previewed, "csrf_token": csrf_token(page)})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "2 cars will be deleted" in html and "Added meanwhile" in html
    db.session.expire_all()
    assert db.session.get(User, bob.id) is not None
    assert len(db.session.scalars(select(Car)).all()) == 2


def test_an_admin_cannot_delete_themselves(logged_in_client, admin_user):
    page = logged_in_client.get(f"/admin/users/{admin_user.id}/delete")
    assert page.status_code == 403
    response = post_form(logged_in_client, f"/admin/users/{admin_user.id}/delete", {"version": "1"},
                         form_url="/admin/users/new")
    assert response.status_code == 403
    assert db.session.get(User, admin_user.id) is not None


def test_posts_without_csrf_token_change_nothing(logged_in_client):
    bob = make_user("bob")
    for url, data in [("/admin/users/new", VALID),
                      (f"/admin/users/{bob.id}", {**VALID, "version": "1"}),
                      (f"/admin/users/{bob.id}/delete", {"version": "1"})]:
        response = logged_in_client.post(url, data=data)
        assert response.status_code == 400, url
        assert "did not come from this site" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [u.username for u in db.session.scalars(select(User).order_by(User.id))] == ["admin", "bob"]


def test_saving_returns_to_the_list_it_came_from(logged_in_client):
    bob = make_user("bob")
    listing = "/admin/users?q=bo&sort=-username&role=employee&limit=50"
    html = logged_in_client.get(listing).get_data(as_text=True)
    edit_link = re.search(rf'href="(/admin/users/{bob.id}\?back=[^"]+)"', html).group(1).replace("&amp;", "&")
    page = logged_in_client.get(edit_link)
    assert 'name="back" value="/admin/users?q=bo&amp;sort=-username&amp;role=employee&amp;limit=50"' in \
        page.get_data(as_text=True)
    response = post_form(logged_in_client, edit_link, {**VALID, "username": "bob", "email": "bob@example.com",
                                                      "role": "employee", "version": "1",
                                                      "back": "/admin/users?q=bo&sort=-username&role=employee&limit=50"})
    assert response.status_code == 302 and response.location == f"{listing}&highlight={bob.id}#row-{bob.id}"
    # A back that is not a path on this site is ignored.
    response = post_form(logged_in_client, f"/admin/users/{bob.id}", {
        **VALID, "username": "bob", "email": "bob@example.com", "role": "employee", "version": "2",
        "back": "https://evil.example/"})
    assert response.status_code == 302 and response.location == f"/admin/users?highlight={bob.id}#row-{bob.id}"
