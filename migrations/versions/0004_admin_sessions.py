"""Admin browser sessions, kept server-side so that logout and password changes end them.

Only a SHA-256 of each session's secret is stored; the secret travels in the
signed session cookie. Rows go with their user (ON DELETE CASCADE).

Revision ID: 0004_admin_sessions
Revises: 0003_cache_era
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_admin_sessions"
down_revision = "0003_cache_era"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip_address", sa.String(length=45), server_default="", nullable=False),
        sa.Column("user_agent", sa.String(length=255), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_admin_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_admin_sessions_secret_hash")),
    )
    with op.batch_alter_table("admin_sessions") as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_sessions_user_id"), ["user_id"])
        batch_op.create_index(batch_op.f("ix_admin_sessions_expires_at"), ["expires_at"])


def downgrade():
    # Dropping the table drops its indexes with it.
    op.drop_table("admin_sessions")
