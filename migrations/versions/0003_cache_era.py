"""The shared cache's era: one row, bumped when a write could not invalidate the cache.

Revision ID: 0003_cache_era
Revises: 0002_users_search_trgm
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_cache_era"
down_revision = "0002_users_search_trgm"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "cache_era",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("era", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_era")),
    )
    op.bulk_insert(table, [{"id": 1, "era": 0}])


def downgrade():
    op.drop_table("cache_era")
