"""People who own cars and work on tasks; admins among them can log in."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import DDL, Boolean, CheckConstraint, Index, Integer, String, event, false, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from best_app.extensions import db
from best_app.models.base import MAX_ID, TimestampMixin, VersionedMixin

if TYPE_CHECKING:
    from best_app.models.car import Car
    from best_app.models.task import Task

ROLES = ("student", "teacher", "employee")
DEFAULT_ROLE = "employee"
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


class User(UserMixin, TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('student', 'teacher', 'employee')", name="role"),
        Index("ix_users_name_id", "name", "id"),
        # Sorting by username and the pickers' prefix look-up read this index;
        # uniqueness (any case) is the lower(username) index below.
        Index("ix_users_username_id", "username", "id"),
        Index("ix_users_created_at_id", "created_at", "id"),
        Index("ix_users_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False, default="", server_default="")
    role: Mapped[str] = mapped_column(
        String(16), nullable=False, default=DEFAULT_ROLE, server_default=DEFAULT_ROLE, index=True
    )
    is_admin: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false(), index=True
    )
    # How many cars the user owns, kept by database triggers (best_app.models.counters);
    # never written by the application.
    car_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # A new password, or losing the admin flag, ends the account's admin
    # sessions (best_app.models.admin_session).
    password_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)

    cars: Mapped[list[Car]] = relationship(
        back_populates="owner", passive_deletes="all", lazy="select"
    )
    tasks: Mapped[list[Task]] = relationship(
        back_populates="assignee", passive_deletes="all", lazy="select"
    )

    def set_password(self, password: str | None) -> None:
        if password is None:
            self.password_hash = None
            return
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    @classmethod
    def named(cls, name: str) -> User | None:
        """The user whose username or email is `name`, in any case (both are unique so,
        and a username holds no "@", so no name can be both)."""
        if "\x00" in name:  # PostgreSQL refuses a NUL in a query; no name holds one
            return None
        return db.session.scalar(select(cls).where(
            or_(func.lower(cls.username) == name.lower(), func.lower(cls.email) == name.lower())).limit(1))

    @classmethod
    def find(cls, identifier: str) -> User | None:
        """By username or email (any case), else by id: a username made of digits wins over an id."""
        user = cls.named(identifier)
        if user is None and identifier.isascii() and identifier.isdigit() and 0 < int(identifier) <= MAX_ID:
            user = db.session.get(cls, int(identifier))
        return user

    @classmethod
    def taken_fields(cls, username: str | None, email: str | None, exclude_id: int | None = None) -> dict:
        """Which of username/email another user already has (in any case), as field -> message."""
        clauses = []
        if username:
            clauses.append(func.lower(cls.username) == username.lower())
        if email:
            clauses.append(func.lower(cls.email) == email.lower())
        if not clauses:
            return {}
        query = select(cls.username, cls.email).where(or_(*clauses))
        if exclude_id is not None:
            query = query.where(cls.id != exclude_id)
        taken = {}
        for other_username, other_email in db.session.execute(query.limit(2)):
            if username and other_username.lower() == username.lower():
                taken["username"] = "This username is already taken."
            if email and other_email.lower() == email.lower():
                taken["email"] = "A user with this email already exists."
        return taken

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"


# Usernames and emails are unique whatever their case ("Jane" and "jane" are one
# person to whoever reads them); functional indexes say so to the database.
Index("uq_users_username_lower", func.lower(User.username), unique=True)
Index("uq_users_email_lower", func.lower(User.email), unique=True)
# Users without cars (has_cars=false), found from the index alone.
Index("ix_users_without_cars", User.id, postgresql_where=User.car_count == 0, sqlite_where=User.car_count == 0)

# Search (q, a case-insensitive substring) would read every row; trigram
# indexes let PostgreSQL answer ILIKE '%q%' from the index. SQLite has no
# trigram index and gets plain ones (unused by search, cheap): one schema on
# both keeps `flask db check` meaningful.
event.listen(User.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
for _column in ("username", "email", "name"):
    Index(f"ix_users_{_column}_trgm", getattr(User, _column), postgresql_using="gin",
          postgresql_ops={_column: "gin_trgm_ops"})
