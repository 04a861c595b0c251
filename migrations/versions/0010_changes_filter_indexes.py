"""The admin's Changes page, newest first by time, filtered by resource,
source or acting user: one index per filter on (filter, changed_at, id), so a
page is a short walk down one index. The acting user's new index replaces the
one on actor_user_id alone, whose lookups it serves as well.

Building them reads the whole change log: seconds per million entries, with
writes to `changes` waiting meanwhile.

Revision ID: 0010_changes_filter_indexes
Revises: 0009_login_events
Create Date: 2026-11-26
"""
from alembic import op

revision = "0010_changes_filter_indexes"
down_revision = "0009_login_events"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_changes_resource_changed_at_id", "changes", ["resource", "changed_at", "id"])
    op.create_index("ix_changes_source_changed_at_id", "changes", ["source", "changed_at", "id"])
    op.create_index("ix_changes_actor_user_id_changed_at_id", "changes", ["actor_user_id", "changed_at", "id"])
    op.drop_index("ix_changes_actor_user_id", table_name="changes")


def downgrade():
    op.create_index("ix_changes_actor_user_id", "changes", ["actor_user_id"])
    op.drop_index("ix_changes_actor_user_id_changed_at_id", table_name="changes")
    op.drop_index("ix_changes_source_changed_at_id", table_name="changes")
    op.drop_index("ix_changes_resource_changed_at_id", table_name="changes")
