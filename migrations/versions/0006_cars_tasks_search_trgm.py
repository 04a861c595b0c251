"""Trigram indexes for searching cars by model and tasks by title (PostgreSQL only).

The same as 0002_users_search_trgm does for users: search is ILIKE '%q%',
which a B-tree cannot serve, so without these indexes every search reads the
whole table. SQLite has no trigram index and gets plain ones, so that both
databases match the models.

Revision ID: 0006_cars_tasks_search_trgm
Revises: 0005_usernames_any_case
Create Date: 2026-11-25
"""
from alembic import op

revision = "0006_cars_tasks_search_trgm"
down_revision = "0005_usernames_any_case"
branch_labels = None
depends_on = None

COLUMNS = (("cars", "model"), ("tasks", "title"))


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in COLUMNS:
        op.create_index(f"ix_{table}_{column}_trgm", table, [column], postgresql_using="gin",
                        postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    for table, column in COLUMNS:
        op.drop_index(f"ix_{table}_{column}_trgm", table_name=table)
    # The extension stays: the users' trigram indexes need it.
