"""The login audit trail from the shell: `flask tokens` and password changes
outside a request are recorded; `flask audit logins` lists the trail."""
import json
import logging

from flask import current_app
from sqlalchemy import select

from best_app import audit
from best_app.extensions import db
from best_app.models import ApiToken, LoginEvent, User
from tests.conftest import make_user


def events(**where) -> list[LoginEvent]:
    db.session.expire_all()
    return db.session.scalars(select(LoginEvent).filter_by(**where).order_by(LoginEvent.id)).all()


def test_tokens_created_and_revoked_from_the_shell(runner, caplog):
    caplog.set_level(logging.INFO, logger="best_app.audit")
    bob = make_user("bob")
    created = runner.invoke(args=["tokens", "create", "--user", "BOB", "--name", "nightly"])
    assert created.exit_code == 0, created.output
    token = db.session.scalar(select(ApiToken))
    for _ in range(2):  # revoking a revoked token records nothing more
        assert runner.invoke(args=["tokens", "revoke", str(token.id)]).exit_code == 0
    assert [(e.kind, e.user_id, e.login, e.token_id, e.actor_id, e.address, e.user_agent) for e in events()] == [
        ("token_created", bob.id, "bob", token.id, None, None, None),
        ("token_revoked", bob.id, "bob", token.id, None, None, None)]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "best_app.audit"]
    assert [(line["event"], line["token_id"]) for line in lines] == [("token_created", token.id),
                                                                     ("token_revoked", token.id)]
    secret = created.stdout.strip().splitlines()[-1]
    assert secret not in caplog.text and token.token_hash not in caplog.text


def test_a_failed_token_command_records_nothing(runner):
    assert runner.invoke(args=["tokens", "create", "--user", "ghost"]).exit_code == 1
    assert runner.invoke(args=["tokens", "revoke", "99"]).exit_code == 1
    assert events() == []


def test_a_password_changed_outside_a_request_is_recorded_without_a_client(app):
    erin = make_user("erin", password="first-password")
    erin.set_password("second-password")
    db.session.commit()
    [event] = events()
    assert (event.kind, event.user_id, event.login, event.actor_id, event.address) == (
        "password_changed", erin.id, "erin", None, None)


def test_creating_an_admin_sets_a_first_password_which_is_no_change(runner):
    result = runner.invoke(args=["users", "create-admin", "--username", "root", "--email", "root@example.com",
                                 "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    assert events() == []
    # What would change it later, through the ORM, is recorded (the same hook as the API's and the pages').
    root = db.session.scalar(select(User).where(User.username == "root"))
    root.set_password("another-long-password")
    db.session.commit()
    assert [(e.kind, e.user_id) for e in events()] == [("password_changed", root.id)]


def add(kind: str, user=None, login: str | None = None, address: str = "198.51.100.1", **fields) -> None:
    with current_app.test_request_context(environ_base={"REMOTE_ADDR": address, "HTTP_USER_AGENT": "Agent/1"}):
        audit.record(kind, user=user, login=login, **fields)
    db.session.commit()


def test_audit_logins_lists_newest_first_and_filters(runner, app):
    admin, bob = make_user("admin", is_admin=True), make_user("bob")
    add("login_failed", login="ghost", reason="unknown_account")
    add("login", user=bob, login="BOB@example.com", address="198.51.100.2")
    add("token_revoked", user=bob, token_id=7, actor_id=admin.id)

    listed = runner.invoke(args=["audit", "logins"])
    assert listed.exit_code == 0, listed.output
    lines = [line.split("\t") for line in listed.output.splitlines()]
    assert [line[1:] for line in lines] == [
        ["token_revoked", f"#{bob.id} bob", f"#{admin.id} admin", "token #7", "198.51.100.1", "Agent/1"],
        ["login", f"#{bob.id} BOB@example.com", "-", "-", "198.51.100.2", "Agent/1"],
        ["login_failed:unknown_account", "- ghost", "-", "-", "198.51.100.1", "Agent/1"]]

    by_user = runner.invoke(args=["audit", "logins", "--user", "bob"]).output.splitlines()
    assert [line.split("\t")[1] for line in by_user] == ["token_revoked", "login"]
    by_kind = runner.invoke(args=["audit", "logins", "--kind", "login_failed"]).output.splitlines()
    assert [line.split("\t")[2] for line in by_kind] == ["- ghost"]
    both = runner.invoke(args=["audit", "logins", "--user", str(bob.id), "--kind", "login"]).output.splitlines()
    assert [line.split("\t")[1] for line in both] == ["login"]
    limited = runner.invoke(args=["audit", "logins", "--limit", "1"]).output.splitlines()
    assert [line.split("\t")[1] for line in limited] == ["token_revoked"]


def test_audit_logins_refuses_what_it_cannot_answer(runner, app):
    unknown = runner.invoke(args=["audit", "logins", "--user", "ghost"])
    assert unknown.exit_code == 1 and "no user" in unknown.output
    assert runner.invoke(args=["audit", "logins", "--kind", "bogus"]).exit_code == 2
    assert runner.invoke(args=["audit", "logins", "--limit", "0"]).exit_code == 2
    empty = runner.invoke(args=["audit", "logins"])
    assert empty.exit_code == 0 and empty.output == ""
