"""Usernames are unique whatever their case, as emails are.

The case-sensitive unique constraint on username becomes a unique index on
lower(username), plus a plain (username, id) index for sorting and the
pickers' prefix look-up, which the constraint's index used to serve.

Usernames that already differ only in case are never merged or renamed here:
the upgrade stops, lists them and changes nothing, so that a person decides
which account keeps the name.

SQLite cannot drop a constraint, so batch mode copies the table. Dropping the
old `users` table with foreign keys enforced would run its ON DELETE actions
(CASCADE deletes tokens and sessions, RESTRICT fails on cars), so the copy
runs with enforcement off, in one transaction that checks the keys before it
commits. SQLite's reflection skips expression indexes, so the copy would lose
lower(email): it is created again.

Revision ID: 0005_usernames_any_case
Revises: 0004_admin_sessions
Create Date: 2026-11-25
"""
import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0005_usernames_any_case"
down_revision = "0004_admin_sessions"
branch_labels = None
depends_on = None

SHOWN_CLASHES = 50


def upgrade():
    with _users_rebuilt():
        _refuse_clashes()
        with op.batch_alter_table("users") as batch_op:
            batch_op.drop_constraint("uq_users_username", type_="unique")
            batch_op.create_index("ix_users_username_id", ["username", "id"])
        op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def downgrade():
    with _users_rebuilt():
        op.drop_index("uq_users_username_lower", table_name="users")
        with op.batch_alter_table("users") as batch_op:
            batch_op.drop_index("ix_users_username_id")
            batch_op.create_unique_constraint(batch_op.f("uq_users_username"), ["username"])


def _refuse_clashes():
    rows = op.get_bind().execute(sa.text(
        "SELECT id, username FROM users WHERE lower(username) IN "
        "(SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1) "
        "ORDER BY lower(username), id")).all()
    if not rows:
        return
    groups: dict[str, list[str]] = {}
    for user_id, username in rows:
        groups.setdefault(username.lower(), []).append(f"{username!r} (id {user_id})")
    lines = [", ".join(users) for users in groups.values()]
    if len(lines) > SHOWN_CLASHES:
        lines[SHOWN_CLASHES:] = [f"... and {len(lines) - SHOWN_CLASHES} more groups"]
    raise CommandError(
        "Usernames are about to become unique whatever their case, but these users have "
        "usernames that differ only in case:\n  " + "\n  ".join(lines) + "\n"
        "Nothing was changed. In each group, rename all but one user (on the admin's user "
        "page or with PATCH /api/v1/users/<id> of the release you run now, or in SQL), "
        "then run `flask db upgrade` again.")


@contextmanager
def _users_rebuilt():
    """Around changes that copy `users` on SQLite: see the module docstring.

    On PostgreSQL the changes are ALTERs inside the migration's transaction; a
    SHARE lock keeps new usernames out between the clash check and the index.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        if bind.dialect.name == "postgresql":
            op.execute("LOCK TABLE users IN SHARE MODE")
        yield
        return
    # PRAGMA foreign_keys is ignored inside a transaction: leave Alembic's,
    # and run one of our own.
    with op.get_context().autocommit_block(), warnings.catch_warnings():
        # Known, and answered below by creating lower(email) again.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        enforced = bind.exec_driver_sql("PRAGMA foreign_keys").scalar()
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            bind.exec_driver_sql("BEGIN IMMEDIATE")  # no other writer until COMMIT
            try:
                yield
                broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise CommandError(f"Copying the users table broke foreign keys: {broken[:10]}")
                op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
                bind.exec_driver_sql("COMMIT")
            except BaseException:
                bind.exec_driver_sql("ROLLBACK")
                raise
        finally:
            bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
