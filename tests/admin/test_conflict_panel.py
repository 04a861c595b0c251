"""The conflict panel, with two browser tabs open on the same row: what it shows, and a second
save that writes only the fields the person changed over the other tab's save."""
import json
import re

from sqlalchemy import select

from best_app.extensions import db
from best_app.models import Change, Task, User
from tests.admin.forms import form_with
from tests.conftest import make_task, make_user


def tab(client, url: str) -> dict:
    """An edit page as a browser tab holds it: its form's fields, as loaded."""
    return form_with(client.get(url), "version")


def panel(html: str) -> str:
    return html[html.index('class="alert alert-warning conflict-panel"'):html.index("</table>")]


def panel_rows(html: str) -> dict[str, tuple[str, str, str, bool]]:
    """Field label -> (saved now, your entry, note, marked as differing)."""
    rows = {}
    for row in re.findall(r"<tr class=\"conflict-.*?</tr>", panel(html), re.S):
        label = re.search(r'<a href="#[^"]+">([^<]+)</a>', row).group(1)
        saved, yours = re.findall(r'<td class="conflict-value">(.*?)</td>', row, re.S)
        note = re.search(r'<td class="small">(.*?)</td>', row, re.S).group(1)
        rows[label] = (saved, yours, note, "conflict-differs" in row and "differs</span>" in row)
    return rows


def test_a_second_save_after_a_conflict_writes_only_what_this_tab_changed(logged_in_client):
    bob = make_user("bob", name="Bob", role="student")
    url = f"/admin/users/{bob.id}"
    tab_a, tab_b = tab(logged_in_client, url), tab(logged_in_client, url)

    # Tab A renames him and saves.
    assert logged_in_client.post(url, data={**tab_a, "name": "Robert"}).status_code == 302
    # Tab B, loaded before that, changes his email and role: a conflict, nothing written.
    response = logged_in_client.post(url, data={**tab_b, "email": "bob@work.example", "role": "teacher"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(User, bob.id).email, db.session.get(User, bob.id).role) == ("bob@example.com", "student")

    rows = panel_rows(html)
    assert rows["Full name"] == ("Robert", "Bob", "Changed by the other save; the form now has it.", True)
    assert rows["Email"] == ("bob@example.com", "bob@work.example", "Changed by you; your value is kept.", True)
    # Choices by their labels, as the form's select shows them.
    assert rows["Role"][:2] == ("Student", "Teacher") and rows["Role"][3]
    assert rows["Username"] == ("bob", "bob", "", False)
    assert rows["Administrator"] == ("No", "No", "", False)
    assert "Password" not in rows

    # The form now holds the other tab's name and this tab's email and role...
    again = form_with(response, "version")
    assert (again["name"], again["email"], again["role"], again["version"]) == ("Robert", "bob@work.example",
                                                                             "teacher", "2")
    # ...so saving it keeps tab A's change and adds tab B's.
    assert logged_in_client.post(url, data=again).status_code == 302
    db.session.expire_all()
    bob = db.session.get(User, bob.id)
    assert (bob.name, bob.email, bob.role, bob.version) == ("Robert", "bob@work.example", "teacher", 3)
    # The second save wrote every field of the form; its log entry names only this tab's changes.
    log = db.session.scalars(select(Change).where(Change.resource == "users", Change.row_id == bob.id)
                             .order_by(Change.id)).all()
    assert [(entry.version, entry.fields) for entry in log[1:]] == [
        (2, {"name": ["Bob", "Robert"]}),
        (3, {"email": ["bob@example.com", "bob@work.example"], "role": ["student", "teacher"]})]


def test_a_field_both_tabs_changed_keeps_this_tabs_entry(logged_in_client):
    task = make_task("Plan trip")
    url = f"/admin/tasks/{task.id}"
    tab_a, tab_b = tab(logged_in_client, url), tab(logged_in_client, url)
    assert logged_in_client.post(url, data={**tab_a, "title": "Plan the trip", "done": "y"}).status_code == 302
    response = logged_in_client.post(url, data={**tab_b, "title": "Plan a trip"})
    assert response.status_code == 409
    rows = panel_rows(response.get_data(as_text=True))
    assert rows["Title"] == ("Plan the trip", "Plan a trip",
                             "Changed by both; your value is kept and will replace theirs.", True)
    assert rows["Done"][:3] == ("Yes", "No", "Changed by the other save; the form now has it.")
    assert logged_in_client.post(url, data=form_with(response, "version")).status_code == 302
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert (task.title, task.done) == ("Plan a trip", True)


def test_the_panel_shows_every_field_including_multi_line_text(logged_in_client):
    bob = make_user("bob")
    task = make_task("Plan trip", assignee=bob)
    url = f"/admin/tasks/{task.id}"
    tab_a, tab_b = tab(logged_in_client, url), tab(logged_in_client, url)
    note = "Book the ferry.\r\nPack <b>chains</b> & a map."
    assert logged_in_client.post(url, data={**tab_a, "description": note, "assignee_id": ""}).status_code == 302
    response = logged_in_client.post(url, data={**tab_b, "title": "Plan our trip"})
    html = response.get_data(as_text=True)
    rows = panel_rows(html)
    assert list(rows) == ["Title", "Description", "Done", "Assignee"]
    assert rows["Description"][0] == "Book the ferry.\nPack &lt;b&gt;chains&lt;/b&gt; &amp; a map."  # escaped
    assert rows["Description"][3]
    assert rows["Assignee"][:2] == ("—", "bob")  # a reference by its title; nobody as a dash
    # The text area took the other tab's description, line breaks and all, and saving keeps it.
    again = form_with(response, "version")
    assert again["description"] == note and again["assignee_id"] == ""
    assert logged_in_client.post(url, data=again).status_code == 302
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert (task.title, task.description.replace("\r\n", "\n"), task.assignee_id) == (
        "Plan our trip", "Book the ferry.\nPack <b>chains</b> & a map.", None)


def test_the_panel_is_above_the_form_and_says_so(logged_in_client):
    task = make_task("Plan trip")
    url = f"/admin/tasks/{task.id}"
    tab_a, tab_b = tab(logged_in_client, url), tab(logged_in_client, url)
    logged_in_client.post(url, data={**tab_a, "title": "Plan the trip"})
    html = logged_in_client.post(url, data={**tab_b, "title": "Plan a trip"}).get_data(as_text=True)
    assert "below the form" not in html
    assert "The table above the form compares what is saved now with your entries." in html
    assert html.index("conflict-panel") < html.index('name="version"')


def test_the_loaded_values_travel_with_the_form(logged_in_client):
    bob = make_user("bob", name="Bob", role="teacher")
    fields = tab(logged_in_client, f"/admin/users/{bob.id}")
    assert json.loads(fields["original"]) == {"username": "bob", "email": "bob@example.com", "name": "Bob",
                                              "role": "teacher", "is_admin": "false"}


def test_a_form_without_its_loaded_values_still_only_warns(logged_in_client):
    # A form from before this page carried its loaded values: no merge, the entries are kept.
    bob = make_user("bob", name="Bob")
    url = f"/admin/users/{bob.id}"
    tab_b = tab(logged_in_client, url)
    bob.name = "Robert"
    db.session.commit()
    del tab_b["original"]
    response = logged_in_client.post(url, data={**tab_b, "email": "bob@work.example"})
    assert response.status_code == 409
    rows = panel_rows(response.get_data(as_text=True))
    assert rows["Full name"][:3] == ("Robert", "Bob", "Differs from your entry; your value is kept.")
    assert form_with(response, "version")["name"] == "Bob"


def test_malformed_loaded_values_are_a_400_naming_the_field(logged_in_client):
    bob = make_user("bob", name="Bob")
    url = f"/admin/users/{bob.id}"
    fields = tab(logged_in_client, url)
    for bad in ("not json", "[1, 2]", '{"name": 5}', "{" * 5000, "[" * 15_000, '{"name": "Bob"'):
        response = logged_in_client.post(url, data={**fields, "name": "Changed", "original": bad})
        assert response.status_code == 400, bad[:40]
        assert "original" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, bob.id).name == "Bob"
