"""Small helpers shared by the tests."""
import contextlib
import re
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def csrf_token(response) -> str:
    """The CSRF token embedded in a rendered form."""
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', response.data)
    if match is None:
        match = re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', response.data)
    assert match, "no csrf_token in the page"
    return match.group(1).decode()


@contextlib.contextmanager
def fresh_postgres_database(server_url: str, prefix: str = "best_app_scratch"):
    """Create an empty database on a PostgreSQL server, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def deleted_before_update(table: str, user_id: int):
    """Delete the user `user_id` just before the session's first UPDATE of `table`,
    in the same transaction: a concurrent delete of the user an update is about to
    refer to, forced to land at the worst moment."""
    from sqlalchemy import event

    from best_app.extensions import db

    def delete_first(state):
        statement_table = getattr(state.statement, "table", None)
        if state.is_update and statement_table is not None and statement_table.name == table:
            state.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})

    event.listen(db.session, "do_orm_execute", delete_first)
    try:
        yield
    finally:
        event.remove(db.session, "do_orm_execute", delete_first)
