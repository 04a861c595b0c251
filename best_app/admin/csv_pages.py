"""The admin's CSV import of every resource: upload, a dry-run preview, then confirm.

The preview validates every row and lists what would be created, what would
change in each updated row (field by field) and every error with its line and
field, writing nothing. Confirm applies the same file, all or nothing.

Between the two steps the file travels back with the confirm form
(compressed, base64, in a hidden field), rather than in a temporary file or a
cache entry: any replica can take the confirm, nothing expires or needs
cleaning up, and nothing previewed is trusted, since confirm validates every
row again against the data as it is then (a row changed since the preview
fails its version check; the whole import is refused).
"""
from __future__ import annotations

import base64
import binascii
import zlib

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from best_app.admin import bp
from best_app.csvio.importer import MAX_ERRORS, MAX_LISTED, import_rows
from best_app.csvio.reader import FileProblem, read_csv, size_problem
from best_app.extensions import csrf, db
from best_app.forms import CsvImportForm
from best_app.history import set_actor
from best_app.resources import REGISTRY, Resource


def pack(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw, 6)).decode()


def unpack(packed: str, limit: int) -> bytes:
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(packed, validate=True), limit + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise FileProblem("The confirmed file was damaged on its way back; upload it again.") from None
    if len(raw) > limit or inflater.unconsumed_tail:
        raise size_problem(limit)
    return raw


def _render(resource: Resource, form, plan=None, problem: str | None = None, status: int = 200):
    return render_template("admin/import/import.html", resource=resource, form=form, plan=plan, problem=problem,
                           max_errors=MAX_ERRORS, max_listed=MAX_LISTED,
                           limit=current_app.config["CSV_IMPORT_MAX_BYTES"]), status


@csrf.exempt  # from the app-wide check, which would read the body under the 64 KiB limit: the form checks its token
def import_page(resource_name: str):
    resource = REGISTRY[resource_name]
    limit = current_app.config["CSV_IMPORT_MAX_BYTES"]
    # This page's own limits, past the app's MAX_CONTENT_LENGTH: the file, or its packed copy and the form.
    request.max_content_length = request.max_form_memory_size = 2 * limit + 64 * 1024
    form = CsvImportForm()
    if request.method == "GET":
        return _render(resource, form)
    if not form.validate_on_submit():
        abort(400, description="The form expired; reload the page and upload the file again.")
    confirming = bool(form.content.data)
    try:
        if confirming:
            raw = unpack(form.content.data, limit)
        elif form.file.data is None or not form.file.data.filename:
            raise FileProblem("Choose a CSV file to upload.")
        else:
            raw = form.file.data.read(limit + 1)
        data = read_csv(resource, raw, limit)
        set_actor(f"admin {current_user.username} (#{current_user.id})", current_user.id, "import")
        plan = import_rows(resource, data, dry_run=not confirming, overwrite=form.overwrite.data,
                           actor=current_user)
    except FileProblem as problem:
        db.session.rollback()
        return _render(resource, form, problem=problem.message, status=problem.status)
    if confirming and plan.ok:
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return _render(resource, form, problem="The import conflicts with a change made while it ran; "
                                                   "nothing was written. Upload the file again.", status=409)
        flash(plan.summary(), "success")
        return redirect(url_for(f"admin.{resource.name}"))
    db.session.rollback()
    if not confirming:
        form.content.data = pack(raw)
    return _render(resource, form, plan=plan, status=200 if plan.ok else 422)


for _resource in REGISTRY.values():
    bp.add_url_rule(f"/{_resource.name}/import", f"{_resource.singular}_import", import_page,
                    defaults={"resource_name": _resource.name}, methods=["GET", "POST"])
