"""Shared pieces of the CLI commands."""
import click

from best_app.extensions import db
from best_app.models import User


def fail(message: str):
    """Abort the command: nothing is written, one line to stderr, exit 1."""
    db.session.rollback()
    raise click.ClickException(message)


def find_user(identifier: str) -> User:
    """A user by id, username or email, or a clean failure."""
    user = User.find(identifier)
    if user is None:
        fail(f"no user with id, username or email {identifier!r}")
    return user


def errors_line(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
