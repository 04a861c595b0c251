"""The owner/assignee lookup: a few users by name, email, username (any case) or id, never the table."""
from best_app.extensions import db
from best_app.models import User
from best_app.admin.lookup import LIMIT
from tests.conftest import make_user


def lookup(client, q):
    response = client.get("/admin/lookup/users", query_string={"q": q})
    assert response.status_code == 200 and response.is_json
    return [row["username"] for row in response.get_json()]


def test_substring_of_username_email_or_name_in_any_case_limited(logged_in_client):
    db.session.add_all(User(username=f"bob{n:02d}", email=f"bob{n}@example.com") for n in range(15))
    db.session.add(User(username="Bobby", email="robert@example.com"))
    db.session.add(User(username="abob", email="abob@example.com"))
    db.session.add(User(username="jgarcia", email="jg@example.com", name="Jane Garcia"))
    db.session.commit()
    assert lookup(logged_in_client, "bob") == ["abob", *(f"bob{n:02d}" for n in range(LIMIT - 1))]
    assert lookup(logged_in_client, "BOB1") == ["bob01", *(f"bob1{n}" for n in range(5))]  # bob01: bob1@...
    assert lookup(logged_in_client, "bobby") == ["Bobby"]
    assert lookup(logged_in_client, "ROBERT@") == ["Bobby"]
    assert lookup(logged_in_client, "Garcia") == lookup(logged_in_client, "jane") == ["jgarcia"]
    assert lookup(logged_in_client, "zzz") == []
    assert lookup(logged_in_client, "") == []


def test_lookup_by_id_comes_first(logged_in_client):
    user = make_user("user1")
    make_user(f"{user.id}abc")  # a username that starts with the id
    assert lookup(logged_in_client, str(user.id)) == ["user1", f"{user.id}abc"]


def test_punctuation_and_wildcards_are_literal(logged_in_client):
    make_user("a.b")
    make_user("a-b")
    make_user("a_b")
    make_user("axb")
    assert lookup(logged_in_client, "a.") == ["a.b"]
    assert lookup(logged_in_client, "a_") == ["a_b"]
    assert lookup(logged_in_client, "a%") == []


def test_hostile_queries_return_nothing(logged_in_client):
    make_user("bob")
    for q in ["%", "'; drop table users; --", "\x00", "b\x00", "é", "²", "١٢", "<script>", "9" * 40, "b" * 10_000]:
        assert lookup(logged_in_client, q) == [], q
