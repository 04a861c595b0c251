"""users.car_count, kept by triggers on cars, and an index of the users without cars.

"Users without cars" (has_cars=false) otherwise anti-joins every user with
every car. The statements are best_app.models.counters', which also creates
them after create_all.

Revision ID: 0011_users_car_count
Revises: 0010_changes_filter_indexes
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

from best_app.models import counters

revision = "0011_users_car_count"
down_revision = "0010_changes_filter_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("car_count", sa.Integer(), server_default="0", nullable=False))
    dialect = op.get_bind().dialect.name
    for statement in counters.POSTGRESQL if dialect == "postgresql" else counters.SQLITE:
        op.execute(statement)
    op.execute(counters.BACKFILL)
    op.create_index("ix_users_without_cars", "users", ["id"], postgresql_where=sa.text("car_count = 0"),
                    sqlite_where=sa.text("car_count = 0"))


def downgrade():
    op.drop_index("ix_users_without_cars", table_name="users")
    for statement in counters.DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    # SQLite drops a column in place (3.35+); a batch copy of users would cascade to its referrers.
    op.execute("ALTER TABLE users DROP COLUMN car_count")
