"""Commands the entrypoint and the embedded run use: wait for the database,
create a first admin."""
import secrets
import time

import click
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from best_app.extensions import db
from best_app.models import User


@click.command("wait-for-db")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(0, 3600),
              help="Seconds to keep trying before giving up.")
def wait_for_db_command(timeout: float):
    """Wait until the database accepts connections; exit 1 if it never does."""
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            click.echo("Database is ready.", err=True)
            return
        except OperationalError as error:
            if time.monotonic() + delay > deadline:
                reason = str(error.orig).strip().splitlines()[0] if error.orig else "no answer"
                raise click.ClickException(f"database not reachable after {timeout:g}s: {reason}")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)  # back off, but keep checking often


@click.command("ensure-admin")
@click.option("--username", default="admin", show_default=True)
@click.option("--email", default="admin@example.com", show_default=True)
def ensure_admin_command(username: str, email: str):
    """Create an admin with a generated password, unless an admin exists."""
    if db.session.scalar(select(func.count()).select_from(User).where(User.is_admin)):
        click.echo("An admin account exists already.", err=True)
        return
    if User.taken_fields(username, email):
        raise click.ClickException(f"cannot create admin: {username!r} or {email!r} is taken by a non-admin")
    password = secrets.token_urlsafe(12)
    user = User(username=username, email=email, name="Administrator", is_admin=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created admin account {username!r} with password: {password}")
    click.echo("It is shown only this once; change it after logging in.")
