"""The change log: one row per created, updated or deleted row of a resource.

Append-only, written in the same transaction as the change it records
(best_app.history), so a change and its entry commit or roll back together.
No foreign keys: the history of a deleted row, or of a deleted actor, stays.

`txid` is the writing transaction's id on PostgreSQL (0 on SQLite, where
one writer at a time commits in id order). The change feed orders by
(txid, id) and only hands out transactions older than every one still
running, so a follower never misses a change that commits late.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from best_app.extensions import db
from best_app.models.base import UTCDateTime, utcnow

CREATE, UPDATE, DELETE = "create", "update", "delete"
SOURCES = ("admin", "api", "cli", "import", "bulk", "cascade", "restore")

# SQLite makes only an INTEGER PRIMARY KEY an alias of its rowid (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Change(db.Model):
    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_resource_row", "resource", "row_id", "id"),
        Index("ix_changes_txid_id", "txid", "id"),
        Index("ix_changes_changed_at_id", "changed_at", "id"),
        # The admin's Changes page, newest first, filtered by each of these (best_app.admin.changes).
        Index("ix_changes_resource_changed_at_id", "resource", "changed_at", "id"),
        Index("ix_changes_source_changed_at_id", "source", "changed_at", "id"),
        Index("ix_changes_actor_user_id_changed_at_id", "actor_user_id", "changed_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    resource: Mapped[str] = mapped_column(String(32), nullable=False)
    row_id: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(8), nullable=False)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the row's, after the change
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(160), nullable=False)  # "admin alice (#3)", "token 7 of bob (#4)", "cli root"
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fields: Mapped[dict] = mapped_column(JSON, nullable=False)  # field -> [old, new]; secrets as "changed"

    def as_json(self) -> dict:
        return {"id": self.id, "resource": self.resource, "row_id": self.row_id, "action": self.action,
                "version": self.version, "changed_at": self.changed_at.isoformat(), "actor": self.actor,
                "actor_user_id": self.actor_user_id, "source": self.source, "request_id": self.request_id,
                "fields": self.fields}


class ChangeRetention(db.Model):
    """One row: how far `flask history prune` has deleted, so the feed can say
    "gone" to a cursor older than that instead of silently skipping."""

    __tablename__ = "change_retention"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pruned_txid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    pruned_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    pruned_before: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
