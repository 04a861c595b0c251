"""Admin browser sessions, kept in the database so that they can be ended.

The session cookie is signed, not encrypted, and a copy of it is as good as
the original until its signature expires: a cookie alone cannot be ended.
So each login gets a row here, and the cookie carries only the row's random
secret (256 bits; like API tokens only its SHA-256 is stored, so reading the
table does not let anyone in). A cookie authenticates while its row exists
and has not expired; ending a session is deleting its row.

Rows end:
- on logout (that row only);
- when the account's password changes, or its admin flag is removed: every
  row of that account except the session making the change, whatever path
  made it through the ORM (admin pages, API, `flask` commands). The rule is
  a flush hook below, so no view has to remember it; a bulk UPDATE of users
  would bypass it (there is none; the user loader requires is_admin anyway);
- when the account is deleted (ON DELETE CASCADE);
- at `expires_at`, a fixed time after login (PERMANENT_SESSION_LIFETIME),
  or after SESSION_IDLE_TIMEOUT without a request, when that is set.
Expired rows are refused at once and deleted at the next login, so the
table holds at most the logins of one lifetime.

Flask-Login's alternative-id pattern (a per-user generation in the cookie)
would end all of an account's sessions together but could not end one alone,
and still leaves the cookie valid after logout until the next password change.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from best_app.extensions import db
from best_app.models.base import UTCDateTime, utcnow
from best_app.models.token import hash_token
from best_app.models.user import User

# Session.info key: the admin session on whose behalf a database session
# works. Set by the layer that authenticated the request (best_app.auth), it
# keeps a change someone makes to their own account from logging them out.
ACTING_SESSION = "best_app.acting_admin_session"


class AdminSession(db.Model):
    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ip_address: Mapped[str] = mapped_column(String(45), nullable=False, default="", server_default="")
    user_agent: Mapped[str] = mapped_column(String(255), nullable=False, default="", server_default="")

    @classmethod
    def start(cls, user: User, lifetime: timedelta, ip_address: str | None = None,
              user_agent: str | None = None) -> tuple[AdminSession, str]:
        """A new session for `user` and its secret; the secret is never stored.

        Also deletes every expired session (of anyone): expired rows are only
        ever created by logins, so each login clearing them keeps the table
        bounded, through the index on expires_at.
        """
        now = utcnow()
        db.session.execute(delete(cls).where(cls.expires_at <= now))
        secret = secrets.token_urlsafe(32)
        row = cls(user_id=user.id, secret_hash=hash_token(secret), created_at=now, last_seen_at=now,
                  expires_at=now + lifetime, ip_address=(ip_address or "")[:45],
                  user_agent=(user_agent or "")[:255])
        db.session.add(row)
        return row, secret

    @classmethod
    def lookup(cls, user_id: int, secret: str, idle_timeout: timedelta | None = None):
        """(user, session id, last_seen_at) for a live session of an admin, else None.

        One query through the unique index on the secret's hash: the user is
        loaded with their session, and only while they are still an admin.
        """
        now = utcnow()
        query = (select(User, cls.id, cls.last_seen_at)
                 .join(cls, cls.user_id == User.id)
                 .where(cls.secret_hash == hash_token(secret), cls.user_id == user_id,
                        cls.expires_at > now, User.is_admin))
        if idle_timeout:
            query = query.where(cls.last_seen_at > now - idle_timeout)
        return db.session.execute(query).first()

    @classmethod
    def end(cls, secret: str) -> None:
        db.session.execute(delete(cls).where(cls.secret_hash == hash_token(secret)))


def _credentials_changed(user: User) -> bool:
    """Whether this flush changes the password or removes the admin flag."""
    attrs = inspect(user).attrs
    if attrs.password_hash.history.added:
        return True
    demoted = attrs.is_admin.history
    return demoted.has_changes() and not demoted.added[0]


@event.listens_for(Session, "before_flush")
def _end_sessions_on_credential_change(session, flush_context, instances):
    # In the same transaction as the change: if it rolls back, so does this.
    for user in session.dirty:
        if isinstance(user, User) and _credentials_changed(user):
            statement = delete(AdminSession).where(AdminSession.user_id == user.id)
            sparing = session.info.get(ACTING_SESSION)
            if sparing is not None:
                statement = statement.where(AdminSession.id != sparing)
            session.execute(statement)
