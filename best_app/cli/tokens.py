"""`flask tokens ...`: API bearer tokens for scripts.

Creating and revoking are in the login audit trail, in the command's transaction.
"""
import click
from flask.cli import AppGroup

from best_app import audit
from best_app.cli.common import fail, find_user
from best_app.extensions import db
from best_app.models import ApiToken
from best_app.models.login_event import TOKEN_CREATED, TOKEN_REVOKED

tokens_cli = AppGroup("tokens", help="Manage API bearer tokens.")


@tokens_cli.command("create")
@click.option("--user", "user_ref", required=True, help="Id, username or email of the token's owner.")
@click.option("--name", default="", help="What the token is for.")
def create_token(user_ref: str, name: str):
    """Create a token; its secret is printed once, alone on stdout."""
    if len(name) > 100:
        fail("--name must be at most 100 characters")
    user = find_user(user_ref)
    token, secret = ApiToken.issue(user, name=name)
    db.session.flush()  # for the token's id
    audit.record(TOKEN_CREATED, user=user, token_id=token.id)
    db.session.commit()
    click.echo(f"Created token {token.id} for {user.username}; it is shown only once.", err=True)
    click.echo(secret)


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int):
    """Revoke a token at once; requests using it fail from now on."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        fail(f"no token with id {token_id}")
    if token.is_active:
        token.revoke()
        audit.record(TOKEN_REVOKED, user=token.user, token_id=token.id)
    db.session.commit()
    click.echo(f"Revoked token {token_id}.")


@tokens_cli.command("list")
def list_tokens():
    """List tokens (never their secrets)."""
    for token in db.session.scalars(db.select(ApiToken).order_by(ApiToken.id)):
        state = "revoked" if token.revoked_at else "active"
        used = token.last_used_at.isoformat() if token.last_used_at else "never"
        click.echo(f"{token.id}\t{token.user.username}\t{token.name}\t{state}\tlast used {used}")
