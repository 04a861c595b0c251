"""`flask history prune`: keep the change log to a bounded age.

Entries older than the cut-off are deleted in batches, and the position of
the newest one deleted is kept (change_retention), so the change feed answers
410 Gone to a cursor from before it rather than skipping what was pruned.
"""
from __future__ import annotations

import re
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete, select

from best_app.cli.common import fail
from best_app.extensions import db
from best_app.models.base import utcnow
from best_app.models.change import Change, ChangeRetention

history_cli = AppGroup("history", help="Look after the change log.")
BATCH = 10_000


def _days(raw: str | None) -> int:
    if raw is None:
        configured = current_app.config.get("HISTORY_RETENTION_DAYS")
        if not configured:
            fail("give --older-than (e.g. 400d) or set HISTORY_RETENTION_DAYS")
        return int(configured)
    match = re.fullmatch(r"(\d{1,5})d", raw.strip())
    if not match or int(match.group(1)) < 1:
        fail(f"--older-than must be a number of days such as 400d, got {raw!r}")
    return int(match.group(1))


@history_cli.command("prune")
@click.option("--older-than", "older_than", help="Age, in days, e.g. 400d (default: HISTORY_RETENTION_DAYS).")
def prune_command(older_than: str | None):
    """Delete change log entries older than the given age."""
    cutoff = utcnow() - timedelta(days=_days(older_than))
    removed = 0
    while True:
        batch = db.session.execute(select(Change.id, Change.txid).where(Change.changed_at < cutoff)
                                   .order_by(Change.txid, Change.id).limit(BATCH)).all()
        if not batch:
            break
        newest = batch[-1]
        mark = db.session.get(ChangeRetention, 1)
        if mark is None:
            db.session.add(ChangeRetention(id=1, pruned_txid=newest.txid, pruned_id=newest.id, pruned_before=cutoff))
        elif (newest.txid, newest.id) > (mark.pruned_txid, mark.pruned_id):
            mark.pruned_txid, mark.pruned_id, mark.pruned_before = newest.txid, newest.id, cutoff
        db.session.execute(delete(Change).where(Change.id.in_([row.id for row in batch])))
        db.session.commit()  # one batch per transaction: a long prune never holds the table
        removed += len(batch)
    click.echo(f"Removed {removed} change log entr{'y' if removed == 1 else 'ies'} from before "
               f"{cutoff:%Y-%m-%d %H:%M} UTC.")
