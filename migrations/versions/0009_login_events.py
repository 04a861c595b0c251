"""The login audit trail: logins, refused attempts, logouts, password changes, API tokens.

Events outlive their account (user_id and actor_id become NULL) and their
token (token_id has no foreign key). No secret is ever stored.

Revision ID: 0009_login_events
Revises: 0008_change_log
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_login_events"
down_revision = "0008_change_log"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("login", sa.String(length=254), server_default="", nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_login_events_user_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_login_events_actor_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_events")),
    )
    op.create_index("ix_login_events_user_id_id", "login_events", ["user_id", "id"])
    op.create_index("ix_login_events_kind_id", "login_events", ["kind", "id"])
    op.create_index(op.f("ix_login_events_actor_id"), "login_events", ["actor_id"])


def downgrade():
    # Dropping the table drops its indexes with it.
    op.drop_table("login_events")
