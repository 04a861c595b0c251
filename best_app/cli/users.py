"""`flask users ...`: account administration from the shell."""
import click
from flask.cli import AppGroup
from werkzeug.datastructures import MultiDict

from best_app.cli.common import errors_line, fail
from best_app.extensions import db
from best_app.forms import UserForm
from best_app.models import User

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.option("--username", required=True, help="3-64 letters, digits, '_', '.' or '-'.")
@click.option("--email", required=True)
@click.option("--name", default="", help="Full name (optional).")
@click.option("--password", help="Omit to be prompted with hidden input.")
def create_admin(username: str, email: str, name: str, password: str | None):
    """Create an administrator who can log in to the admin pages."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    data = MultiDict({"username": username, "email": email, "name": name or username,
                      "role": "employee", "is_admin": "y", "password": password})
    # The same rules as the admin pages and the API.
    form = UserForm(formdata=data, meta={"csrf": False})
    if not form.validate():
        fail(errors_line(form.errors))
    taken = User.taken_fields(form.username.data, form.email.data)
    if taken:
        fail(errors_line({k: [v] for k, v in taken.items()}))
    user = User(username=form.username.data, email=form.email.data, name=form.name.data,
                role=form.role.data, is_admin=True)
    user.set_password(form.password.data)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created admin {user.username} (id {user.id}).")
