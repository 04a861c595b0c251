"""The login audit trail: who logged in (or tried to) from where, and the other
events that grant or withdraw access: logouts, password changes, API tokens
created and revoked.

Append-only, and written by best_app.audit in the same transaction as what it
records. It never holds a secret: no password, no token secret or hash, no
session secret. `login` keeps the name as typed at a login (or the account's
username for the other events), so that an event still says who it was about
once the account is deleted (user_id becomes NULL) or when no account matched.
`token_id` has no foreign key for the same reason: tokens go with their user.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from best_app.extensions import db
from best_app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from best_app.models.user import User

LOGIN, LOGIN_FAILED, LOGOUT = "login", "login_failed", "logout"
PASSWORD_CHANGED, TOKEN_CREATED, TOKEN_REVOKED = "password_changed", "token_created", "token_revoked"
KINDS = (LOGIN, LOGIN_FAILED, LOGOUT, PASSWORD_CHANGED, TOKEN_CREATED, TOKEN_REVOKED)
UNKNOWN_ACCOUNT, WRONG_PASSWORD, NOT_ADMIN, THROTTLED = "unknown_account", "wrong_password", "not_admin", "throttled"
REASONS = (UNKNOWN_ACCOUNT, WRONG_PASSWORD, NOT_ADMIN, THROTTLED)
LOGIN_LENGTH, ADDRESS_LENGTH, USER_AGENT_LENGTH = 254, 45, 256

# SQLite makes only an INTEGER PRIMARY KEY an alias of its rowid (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class LoginEvent(db.Model):
    __tablename__ = "login_events"
    # Listed newest first (by id, which follows the time of writing), whole or
    # for one account or one kind; actor_id is indexed for ON DELETE SET NULL.
    __table_args__ = (
        Index("ix_login_events_user_id_id", "user_id", "id"),
        Index("ix_login_events_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(24), nullable=True)  # of a login_failed
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    login: Mapped[str] = mapped_column(String(LOGIN_LENGTH), nullable=False, default="", server_default="")
    # The admin who acted on someone else's account (revoked their token), else NULL.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                                 index=True)
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # NULL for a `flask` command: there is no client.
    address: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_LENGTH), nullable=True)

    # For reading only: events are written as plain INSERTs (best_app.audit),
    # and the database, not the ORM, unlinks them from a deleted account.
    user: Mapped[User | None] = relationship(foreign_keys=[user_id], viewonly=True)
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], viewonly=True)
