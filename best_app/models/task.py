"""Tasks, optionally assigned to a user."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, false, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from best_app.extensions import db
from best_app.models.base import TimestampMixin, VersionedMixin

if TYPE_CHECKING:
    from best_app.models.user import User


class Task(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_title_id", "title", "id"),
        Index("ix_tasks_assignee_id_id", "assignee_id", "id"),
        Index("ix_tasks_created_at_id", "created_at", "id"),
        Index("ix_tasks_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    done: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false(), index=True
    )
    # SET NULL: a task outlives the person it was assigned to.
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    assignee: Mapped[User | None] = relationship(back_populates="tasks")

    @classmethod
    def unassign_all(cls, user_id: int) -> None:
        """Unassign a user's tasks ahead of deleting the user.

        ON DELETE SET NULL would do it too, but without bumping each task's
        version, so clients holding a task's ETag would not see the change.
        """
        db.session.execute(
            update(cls).where(cls.assignee_id == user_id).values(assignee_id=None, version=cls.version + 1),
            execution_options={"synchronize_session": False},
        )

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.title!r}>"


# Search (q) is a case-insensitive substring match: on PostgreSQL a trigram
# index serves it, SQLite gets a plain one, as for users. The pg_trgm extension
# comes with the users table, which tasks refer to and so follow.
Index("ix_tasks_title_trgm", Task.title, postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"})
