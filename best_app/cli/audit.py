"""`flask audit logins`: the login audit trail from the shell, newest first.

One event a line, tab-separated: time (UTC), event (with the reason of a
refusal), account id and login name, acting admin, token, client address,
user agent. "-" where there is nothing, as for a `flask` command's address.
"""
import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from best_app.cli.common import find_user
from best_app.extensions import db
from best_app.models import LoginEvent
from best_app.models.login_event import KINDS

audit_cli = AppGroup("audit", help="Read the login audit trail.")


def _line(event: LoginEvent) -> str:
    what = f"{event.kind}:{event.reason}" if event.reason else event.kind
    account = f"#{event.user_id} {event.login}" if event.user_id else f"- {event.login}"
    actor = f"#{event.actor_id} {event.actor.username}" if event.actor else "-"
    token = f"token #{event.token_id}" if event.token_id else "-"
    return "\t".join([event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), what, account, actor, token,
                      event.address or "-", event.user_agent or "-"])


@audit_cli.command("logins")
@click.option("--user", "user_ref", help="Only this account: id, username or email.")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind of event.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000),
              help="At most this many events.")
def list_logins(user_ref: str | None, kind: str | None, limit: int):
    """List login events, newest first."""
    statement = select(LoginEvent).options(selectinload(LoginEvent.actor)).order_by(LoginEvent.id.desc()).limit(limit)
    if user_ref is not None:
        statement = statement.where(LoginEvent.user_id == find_user(user_ref).id)
    if kind is not None:
        statement = statement.where(LoginEvent.kind == kind)
    for event in db.session.scalars(statement):
        click.echo(_line(event))
