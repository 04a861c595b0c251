"""The shared cache's era, kept in the database (one row).

See best_app.cache_era for why the database, and not the cache, holds it.
"""
from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from best_app.extensions import db

ERA_ROW_ID = 1


class CacheEra(db.Model):
    __tablename__ = "cache_era"

    id: Mapped[int] = mapped_column(primary_key=True)
    era: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
