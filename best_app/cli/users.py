"""`flask users ...`: account administration from the shell."""
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from best_app.cli.common import errors_line, fail, find_user
from best_app.extensions import db
from best_app.forms import NewPasswordForm, UserForm
from best_app.models import AdminSession, User

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.option("--username", required=True, help="3-64 letters, digits, '_', '.' or '-'.")
@click.option("--email", required=True)
@click.option("--name", default="", help="Full name (optional).")
@click.option("--password", help="Omit to be prompted with hidden input.")
@click.option("--token-only", is_flag=True,
              help="No password: an administrator that acts only through API tokens and cannot log in.")
def create_admin(username: str, email: str, name: str, password: str | None, token_only: bool):
    """Create an administrator who can log in to the admin pages.

    With --token-only: one without a password, that acts only through API tokens.
    """
    if token_only and password is not None:
        fail("give either --password or --token-only: a token-only administrator has no password")
    if password is None and not token_only:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    data = MultiDict({"username": username, "email": email, "name": name or username,
                      "role": "employee", "is_admin": "y", "password": password or "",
                      "token_only": "y" if token_only else ""})
    # The same rules as the admin pages and the API.
    form = UserForm(formdata=data, meta={"csrf": False})
    if not form.validate():
        fail(errors_line(form.errors))
    problems = {**form.admin_password_problems(was_admin=False, had_password=False),
                **User.taken_fields(form.username.data, form.email.data)}
    if problems:
        fail(errors_line({k: [v] for k, v in problems.items()}))
    user = User(username=form.username.data, email=form.email.data, name=form.name.data,
                role=form.role.data, is_admin=True)
    user.set_password(form.password.data or None)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created admin {user.username} (id {user.id}).")
    if token_only:
        click.echo(f"Warning: {user.username} has no password, so it cannot log in to the admin pages; "
                   f"give it API tokens (flask tokens create {user.username}).", err=True)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _read_new_password(from_stdin: bool) -> MultiDict:
    """The new password and its confirmation: the first line of stdin (given once,
    for scripts), or typed twice at hidden prompts."""
    if from_stdin or not _stdin_is_terminal():
        line = sys.stdin.readline().rstrip("\r\n")
        return MultiDict({"password": line, "confirm": line})
    password = click.prompt("New password", hide_input=True, confirmation_prompt="Repeat the new password")
    return MultiDict({"password": password, "confirm": password})


@users_cli.command("set-password")
@click.argument("user")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read the password from the first line of standard input (the default when it is not a terminal).")
def set_password(user: str, from_stdin: bool):
    """Set USER's password (a username, email or id) and end all their admin sessions."""
    account = find_user(user)
    form = NewPasswordForm(formdata=_read_new_password(from_stdin), meta={"csrf": False})
    if not form.validate():
        fail(errors_line(form.errors))
    sessions = db.session.scalar(select(func.count()).select_from(AdminSession)
                                 .where(AdminSession.user_id == account.id))
    # Setting it ends every admin session of the account in the same
    # transaction (best_app.models.admin_session), and is in the login audit trail.
    account.set_password(form.password.data)
    db.session.commit()
    click.echo(f"Password of {account.username} (id {account.id}) changed; "
               f"{sessions} admin session{'' if sessions == 1 else 's'} ended.")
