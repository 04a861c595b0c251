"""Cars, each owned by exactly one user."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from best_app.extensions import db
from best_app.models import counters
from best_app.models.base import TimestampMixin, VersionedMixin

if TYPE_CHECKING:
    from best_app.models.user import User


class Car(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "cars"
    __table_args__ = (
        Index("ix_cars_model_id", "model", "id"),
        Index("ix_cars_owner_id_id", "owner_id", "id"),
        Index("ix_cars_created_at_id", "created_at", "id"),
        Index("ix_cars_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(100), nullable=False)
    # RESTRICT: deleting a user must be an explicit decision about their cars.
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )

    owner: Mapped[User] = relationship(back_populates="cars")

    def __repr__(self) -> str:
        return f"<Car {self.id} {self.model!r}>"


# Search (q) is a case-insensitive substring match: on PostgreSQL a trigram
# index serves it, SQLite gets a plain one, as for users. The pg_trgm extension
# comes with the users table, which cars refer to and so follow.
Index("ix_cars_model_trgm", Car.model, postgresql_using="gin", postgresql_ops={"model": "gin_trgm_ops"})

# users.car_count follows the cars table (best_app.models.counters).
counters.attach(Car.__table__)
