"""flask users / tokens / seed."""
from sqlalchemy import func, select

from best_app.extensions import db
from best_app.models import ApiToken, Car, Task, User, hash_token
from tests.conftest import make_user


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_admin(runner):
    result = runner.invoke(args=["users", "create-admin", "--username", "root", "--email", "root@example.com",
                                 "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "root"))
    assert user.is_admin and user.check_password("a-long-password")


def test_create_admin_prompts_for_a_hidden_password(runner):
    result = runner.invoke(args=["users", "create-admin", "--username", "root", "--email", "root@example.com"],
                           input="typed-password\ntyped-password\n")
    assert result.exit_code == 0, result.output
    assert "typed-password" not in result.output
    assert db.session.scalar(select(User).where(User.username == "root")).check_password("typed-password")


def test_create_admin_refuses_duplicates_and_writes_nothing(runner):
    make_user("root", email="root@example.com")
    result = runner.invoke(args=["users", "create-admin", "--username", "root", "--email", "ROOT@example.com",
                                 "--password", "a-long-password"])
    assert result.exit_code == 1
    assert "username" in result.output and "email" in result.output
    assert "Traceback" not in result.output
    assert count(User) == 1


def test_create_admin_validates_input(runner):
    result = runner.invoke(args=["users", "create-admin", "--username", "x", "--email", "not-an-email",
                                 "--password", "short"])
    assert result.exit_code == 1
    assert "username" in result.output and "email" in result.output and "password" in result.output
    assert count(User) == 0


def test_token_create_prints_only_the_secret_on_stdout(app):
    make_user("scripter")
    runner = app.test_cli_runner(mix_stderr=False) if _supports_mix_stderr() else app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", "--user", "scripter", "--name", "backup job"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    secret = lines[0]
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hash_token(secret)
    assert token.name == "backup job"
    assert secret not in token.token_hash


def _supports_mix_stderr() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def test_token_create_for_unknown_user_fails_cleanly(runner):
    result = runner.invoke(args=["tokens", "create", "--user", "ghost"])
    assert result.exit_code == 1
    assert "ghost" in result.output
    assert count(ApiToken) == 0


def test_token_revoke(runner):
    user = make_user("scripter")
    token, _secret = ApiToken.issue(user)
    db.session.commit()
    result = runner.invoke(args=["tokens", "revoke", str(token.id)])
    assert result.exit_code == 0
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert runner.invoke(args=["tokens", "revoke", "999"]).exit_code == 1


def test_seed_twice_adds_rows_without_unique_clashes(runner):
    args = ["seed", "--users", "30", "--cars-per-user", "2", "--tasks", "40"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=args)
    assert second.exit_code == 0, second.output
    assert count(User) == 60
    assert count(Car) == 120
    assert count(Task) == 80
    assert db.session.scalar(select(func.count(func.distinct(func.lower(User.email))))) == 60


def test_seed_rejects_bad_options(runner):
    result = runner.invoke(args=["seed", "--users", "-5"])
    assert result.exit_code == 2
    assert "--users" in result.output
    assert count(User) == 0


def test_seed_if_empty_leaves_a_populated_database_alone(runner):
    make_user("existing")
    result = runner.invoke(args=["seed", "--if-empty", "--users", "5"])
    assert result.exit_code == 0
    assert count(User) == 1


def test_ensure_admin_creates_one_admin_once(runner):
    first = runner.invoke(args=["ensure-admin"])
    assert first.exit_code == 0, first.output
    password = first.output.split("password: ", 1)[1].split()[0]
    admin = db.session.scalar(select(User).where(User.is_admin))
    assert admin.username == "admin" and admin.check_password(password)
    second = runner.invoke(args=["ensure-admin"])
    assert second.exit_code == 0
    assert "password:" not in second.output
    assert count(User) == 1


def test_wait_for_db_succeeds_on_a_reachable_database(runner):
    result = runner.invoke(args=["wait-for-db", "--timeout", "5"])
    assert result.exit_code == 0, result.output


def test_wait_for_db_gives_up_with_a_clear_message(tmp_path):
    """A database that never answers: bounded wait, one line, exit 1."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {"PATH": str(Path(sys.executable).parent), "FLASK_APP": "best_app", "SECRET_KEY": "x",
           "HOME": str(tmp_path), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = subprocess.run([sys.executable, "-m", "flask", "wait-for-db", "--timeout", "1"], cwd=root,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "database not reachable after 1s" in result.stderr
    assert "Traceback" not in result.stderr


def test_token_user_is_found_by_username_before_id(runner):
    make_user("filler")
    admin = make_user("admin", is_admin=True)   # id 2
    numeric = make_user("2")                    # a username that looks like admin's id
    result = runner.invoke(args=["tokens", "create", "--user", "2"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(ApiToken)).user_id == numeric.id != admin.id
    odd = runner.invoke(args=["tokens", "create", "--user", "²"])
    assert odd.exit_code == 1 and "Traceback" not in odd.output
