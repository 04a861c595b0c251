"""What the create/edit/delete views of every resource share.

Saving is optimistic: the form carries the row version it was filled in
from. A stale version, or another transaction committing between our read
and our write (SQLAlchemy's StaleDataError), means someone else saved first:
we write nothing and say so, instead of letting the last edit win.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import abort, flash, redirect, render_template, request
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm.exc import StaleDataError

from best_app.admin import bp
from best_app.extensions import db
from best_app.forms import MAX_ID, VersionedForm, version_mismatch

CONFLICT = ("Someone else changed this record while you were editing it, so nothing was saved. "
            "The table above the form compares what is saved now with your entries. The fields you "
            "changed keep your entries; the others now hold the other save's values. Save again to "
            "write your changes over theirs.")
DELETE_CONFLICT = "This record changed after you opened this page. Check what will be deleted, then confirm again."


def get_or_404(model, row_id: int):
    if not 0 < row_id <= MAX_ID:
        abort(404)
    return db.get_or_404(model, row_id)


RACED = ("Another change was saved at the same moment (for example, the chosen user was deleted, or "
         "the username or email was taken), so nothing was saved. Check the values and save again.")


def save(row, form: VersionedForm, apply: Callable[[object], None]) -> bool | None:
    """Apply the form to `row` and commit. True when saved; False on a version
    conflict; None when a constraint failed (the reason is on the form). Nothing
    is written unless it returns True."""
    if row.id is not None and version_mismatch(form, row.version):
        return False
    apply(row)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return False
    except IntegrityError:
        # Validation passed, but a concurrent transaction deleted a row this one
        # refers to (an owner, an assignee) or took a unique value.
        db.session.rollback()
        form.form_errors.append(RACED)
        return None
    return True


def refresh_version(row, form: VersionedForm) -> None:
    """After a conflict, let the next save be a deliberate overwrite of what is there now."""
    try:
        db.session.refresh(row)
    except InvalidRequestError:  # the conflicting change was a delete
        abort(404)
    form.version.data = str(row.version)


def create_page(form: VersionedForm, save_form: Callable[[], bool | None], *, template: str,
                context: dict, on_saved: Callable[[], str]):
    """The create page of any resource: the empty form on GET; on POST a
    redirect to what `on_saved` returns (after its flash) when saved, else the
    form again with its errors (400)."""
    if form.validate_on_submit() and save_form():
        return redirect(on_saved())
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def edit_page(row, form: VersionedForm, save_form: Callable[[], bool | None], *, template: str,
              context: dict, on_saved: Callable[[], str], on_conflict: Callable[[], None] = lambda: None):
    """The edit page of any resource: the form on GET; on POST a redirect when
    saved, the form again with its errors (400) or with the conflict (409),
    after `on_conflict` has had its say (it may update `context` and the form).

    `save_form` returns True when saved, False on a conflict and None when it
    put errors on the form.
    """
    status, conflict = 200, None
    if form.validate_on_submit():
        saved = save_form()
        if saved:
            return redirect(on_saved())
        if saved is False:
            status, conflict = 409, CONFLICT
            refresh_version(row, form)
            on_conflict()
        else:
            status = 400
    elif request.method == "POST":
        status = 400
    return render_template(template, form=form, conflict=conflict, **context), status


def delete_page(row, perform: Callable[[], None], *, template: str, context: Callable[[], dict],
                deleted_message: str, done_url: str, refusal: str | None = None,
                preview_outdated: Callable[[], bool] = lambda: False):
    """The delete confirmation of any resource. A POST deletes, unless the
    deletion is refused (403), or the row or what the page previewed changed
    since it was shown (409: the page is shown again, up to date)."""
    form = VersionedForm(obj=row)  # CSRF is checked for every POST before any view runs
    message, status = None, 200
    if refusal:
        message, status = refusal, 403
    elif request.method == "POST":
        if version_mismatch(form, row.version) or preview_outdated():
            message, status = DELETE_CONFLICT, 409
            form.version.data = str(row.version)
        else:
            try:
                perform()
                db.session.commit()
            except (StaleDataError, IntegrityError):
                # Changed between our check and our delete (a concurrent save,
                # or a new car for a user): nothing was deleted.
                db.session.rollback()
                refresh_version(row, form)
                message, status = DELETE_CONFLICT, 409
            else:
                flash(deleted_message, "success")
                return redirect(done_url)
    return render_template(template, form=form, message=message, **context()), status


@bp.app_template_filter("when")
def format_when(value) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""
