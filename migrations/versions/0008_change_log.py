"""The change log: one row per created, updated or deleted row of a resource, and how far it was pruned.

Revision ID: 0008_change_log
Revises: 0006_cars_tasks_search_trgm
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_change_log"
down_revision = "0006_cars_tasks_search_trgm"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    op.create_index("ix_changes_resource_row", "changes", ["resource", "row_id", "id"])
    op.create_index("ix_changes_txid_id", "changes", ["txid", "id"])
    op.create_index("ix_changes_changed_at_id", "changes", ["changed_at", "id"])
    op.create_index(op.f("ix_changes_actor_user_id"), "changes", ["actor_user_id"])
    op.create_table(
        "change_retention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pruned_txid", sa.BigInteger(), nullable=False),
        sa.Column("pruned_id", sa.BigInteger(), nullable=False),
        sa.Column("pruned_before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_retention")),
    )


def downgrade():
    op.drop_table("change_retention")
    op.drop_table("changes")
