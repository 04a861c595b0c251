"""What the create/edit/delete views of every resource share.

Saving is optimistic: the form carries the row version it was filled in
from. A stale version, or another transaction committing between our read
and our write (SQLAlchemy's StaleDataError), means someone else saved first:
we write nothing and say so, instead of letting the last edit win.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import abort
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm.exc import StaleDataError

from best_app.admin import bp
from best_app.extensions import db
from best_app.forms import MAX_ID, VersionedForm, version_mismatch

CONFLICT = ("Someone else changed this record while you were editing it, so nothing was saved. "
            "The values saved now are shown below the form; your entries are kept in the form. "
            "Save again to replace their changes with yours.")
DELETE_CONFLICT = "This record changed after you opened this page. Check what will be deleted, then confirm again."


def get_or_404(model, row_id: int):
    if not 0 < row_id <= MAX_ID:
        abort(404)
    return db.get_or_404(model, row_id)


def save(row, form: VersionedForm, apply: Callable[[object], None]) -> bool:
    """Apply the form to `row` and commit; False (with nothing written) on a conflict."""
    if row.id is not None and version_mismatch(form, row.version):
        return False
    apply(row)
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError):
        # IntegrityError: a row this one refers to (an owner, an assignee) was
        # deleted after the form was validated; also a concurrent change.
        db.session.rollback()
        return False
    return True


def refresh_version(row, form: VersionedForm) -> None:
    """After a conflict, let the next save be a deliberate overwrite of what is there now."""
    try:
        db.session.refresh(row)
    except InvalidRequestError:  # the conflicting change was a delete
        abort(404)
    form.version.data = str(row.version)


@bp.app_template_filter("when")
def format_when(value) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""
