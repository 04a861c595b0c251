"""flask users set-password, and create-admin's --token-only."""
import pytest
from sqlalchemy import func, select

from best_app.extensions import db
from best_app.models import AdminSession, User
from tests.admin.test_sessions import assert_out, browser
from tests.conftest import ADMIN_PASSWORD, make_user

NEW = "a fresh long password"


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


@pytest.mark.parametrize("how", ["username", "email", "id"])
def test_set_password_from_stdin_finds_the_user_any_way(runner, how):
    carol = make_user("carol", password="old password 1")
    name = {"username": "Carol", "email": "CAROL@example.com", "id": str(carol.id)}[how]
    result = runner.invoke(args=["users", "set-password", name], input=NEW + "\n")
    assert result.exit_code == 0, result.output
    assert NEW not in result.output
    assert "Password of carol" in result.output
    assert reload(carol).check_password(NEW)


def test_set_password_prompts_twice_with_hidden_input_until_both_match(runner, monkeypatch):
    carol = make_user("carol", password="old password 1")
    # CliRunner's stdin is never a terminal; pretend it is, to get the prompts.
    monkeypatch.setattr("best_app.cli.users._stdin_is_terminal", lambda: True)
    result = runner.invoke(args=["users", "set-password", "carol"], input=f"{NEW}\nother one!\n{NEW}\n{NEW}\n")
    assert result.exit_code == 0, result.output
    assert "New password" in result.output and "Repeat the new password" in result.output
    assert "do not match" in result.output
    assert NEW not in result.output
    assert reload(carol).check_password(NEW)


def test_set_password_with_the_stdin_flag_reads_one_line(runner, monkeypatch):
    carol = make_user("carol", password="old password 1")
    monkeypatch.setattr("best_app.cli.users._stdin_is_terminal", lambda: True)
    result = runner.invoke(args=["users", "set-password", "--stdin", "carol"], input=NEW + "\n")
    assert result.exit_code == 0, result.output
    assert "New password" not in result.output
    assert reload(carol).check_password(NEW)


def test_set_password_ends_all_the_users_sessions(app, runner, admin_user):
    first, second = browser(app), browser(app)
    result = runner.invoke(args=["users", "set-password", "admin"], input=NEW + "\n")
    assert result.exit_code == 0, result.output
    assert "2 admin sessions ended" in result.output
    assert_out(first)
    assert_out(second)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AdminSession)) == 0


def test_set_password_refuses_a_short_password_and_changes_nothing(app, runner, admin_user):
    here = browser(app)
    result = runner.invoke(args=["users", "set-password", "admin"], input="short\n")
    assert result.exit_code == 1
    assert "password" in result.output and "8" in result.output
    assert "Traceback" not in result.output
    assert reload(admin_user).check_password(ADMIN_PASSWORD)
    assert here.get("/admin/").status_code == 200


def test_set_password_for_an_unknown_user_fails_cleanly(runner):
    result = runner.invoke(args=["users", "set-password", "ghost"], input=NEW + "\n")
    assert result.exit_code == 1
    assert "no user with id, username or email 'ghost'" in result.output
    assert "Traceback" not in result.output


def test_create_admin_without_a_password_needs_token_only(runner):
    # No --password: it prompts; an empty answer is refused by the prompt itself,
    # so the only way to no password is asking for it.
    result = runner.invoke(args=["users", "create-admin", "--username", "robot", "--email", "robot@example.com",
                                 "--token-only"])
    assert result.exit_code == 0, result.output
    assert "Warning: robot has no password" in result.output
    robot = db.session.scalar(select(User).where(User.username == "robot"))
    assert robot.is_admin and robot.password_hash is None


def test_create_admin_with_an_empty_password_is_refused(runner):
    result = runner.invoke(args=["users", "create-admin", "--username", "robot", "--email", "robot@example.com",
                                 "--password", ""])
    assert result.exit_code == 1
    assert "An administrator needs a password" in result.output
    assert db.session.scalar(select(User).where(User.username == "robot")) is None


def test_create_admin_refuses_a_password_with_token_only(runner):
    result = runner.invoke(args=["users", "create-admin", "--username", "robot", "--email", "robot@example.com",
                                 "--token-only", "--password", "a-long-password"])
    assert result.exit_code == 1
    assert "either --password or --token-only" in result.output
    assert db.session.scalar(select(User).where(User.username == "robot")) is None
