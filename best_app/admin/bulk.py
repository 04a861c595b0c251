"""Bulk actions on the admin lists: select rows (or every row matching the list's
search and filters, up to best_app.resources.bulk.MAX_ROWS), choose an action,
check what will change on a confirmation page, confirm.

The confirmation page carries the selection as a signed token: each row's id,
the version the admin saw (on the list for rows ticked there, on the
confirmation page for "all matching"), the action's argument and, for deletions
that take other rows along, what the page showed would go with each row. On
confirm the action runs once, in one transaction (best_app.resources.bulk):
rows changed or deleted since are reported and left alone. Nothing here names
a resource: the actions are the declarations' (Resource.bulk_actions).
"""
from __future__ import annotations

from itertools import accumulate
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from best_app.admin import bp
from best_app.admin import save_flow
from best_app.extensions import db
from best_app.resources import REGISTRY, Resource
from best_app.resources.bulk import (CHANGED, MAX_ROWS, BadArgument, BulkRun, TooMany, check_argument,
                                     matching)
from best_app.resources.declaration import BulkAction
from best_app.resources.params import BadParameter
from best_app.resources.query import parse_list_args

SHOWN = 100  # rows listed on the confirmation and result pages; the totals count them all
RACED = ("Another change was saved at the same moment (for example, the chosen user was deleted), so nothing "
         "was changed. Check the list and try again.")


def _serializer(resource: Resource) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"] or "", salt=f"bulk:{resource.name}")


def _list_args(back: str) -> MultiDict:
    """The list's search and filters, from the list URL the admin came from."""
    return MultiDict([(name, value) for name, value in parse_qsl(urlsplit(back).query, keep_blank_values=True)
                      if value != "" and name not in ("cursor", "count", "limit")])


class BulkPages:
    """The confirmation and result pages of one resource's bulk actions."""

    def __init__(self, resource: Resource):
        self.resource = resource

    def back_url(self) -> str:
        """The list the admin came from (its search, filters, sort and page), else the plain list:
        "all matching" reads the list's filters from it."""
        plain = url_for(f"admin.{self.resource.name}")
        back = save_flow.valid_back(self.resource, request.form.get("back"))
        return back if back is not None and urlsplit(back).path == plain else plain

    def action(self, name: str | None) -> BulkAction:
        action = self.resource.bulk_action(name or "")
        if action is None:
            abort(400, description="Choose one of the actions offered.")
        return action

    # -- the view: a selection from the list, or a confirmed token -------------------
    def view(self):
        if "selection" in request.form:
            return self.confirm()
        resource, back = self.resource, self.back_url()
        action = self.action(request.form.get("action"))
        context = {"resource": resource, "action": action, "back": back, "label": self.argument_label(action)}
        try:
            value = check_argument(resource, action, request.form.get(f"arg_{action.argument}"))
        except BadArgument as error:
            return render_template("admin/bulk/confirm.html", **context, argument_error=error.message,
                                   rows=request.form.getlist("row"), scope=request.form.get("scope")), 400
        try:
            expected = self.selection(back)
        except TooMany as error:
            return render_template("admin/bulk/confirm.html", **context, too_many=str(error)), 400
        if not expected:
            flash("Select at least one row, or all rows matching the list, then choose the action again.", "warning")
            return redirect(back)
        result = BulkRun(resource, action, expected, value=value, actor=current_user, cascade=True).preview()
        seen = {o.id: (expected[o.id] if expected[o.id] is not None else o.version) for o in result.outcomes}
        ids = sorted(seen)
        # Ids as differences from the one before: 10,000 rows stay a few kilobytes once compressed.
        token = _serializer(resource).dumps({
            "action": action.name, "value": value, "ids": [b - a for a, b in zip([0, *ids], ids)],
            "versions": [seen[i] for i in ids],
            "fingerprints": {str(o.id): o.fingerprint for o in result.outcomes if o.fingerprint is not None}})
        return render_template("admin/bulk/confirm.html", **context, result=result, token=token, shown=SHOWN,
                               show=self.show, value_shown=self.show(action.argument, value) if value else None)

    def selection(self, back: str) -> dict[int, int | None]:
        """id -> version seen, from the ticked rows ("id:version"), or every row the list matches."""
        if request.form.get("scope") == "matching":
            try:
                query = parse_list_args(self.resource, _list_args(back))
            except BadParameter as error:
                abort(400, description=str(error))
            return dict.fromkeys(matching(self.resource, query))
        expected = {}
        for raw in request.form.getlist("row"):
            row_id, _, version = raw.partition(":")
            if not (row_id.isascii() and row_id.isdigit() and version.isascii() and version.isdigit()):
                abort(400, description="A selected row is not one this list offered.")
            expected[int(row_id)] = int(version)
        if len(expected) > MAX_ROWS:
            raise TooMany()
        return expected

    def confirm(self):
        resource, back = self.resource, self.back_url()
        try:
            token = _serializer(resource).loads(request.form["selection"])
        except BadSignature:
            abort(400, description="This confirmation did not come from a page of ours; choose the rows again.")
        action = self.action(token["action"])
        run = BulkRun(resource, action, dict(zip(accumulate(token["ids"]), token["versions"])), value=token["value"],
                      actor=current_user, cascade=True,
                      fingerprints={int(k): v for k, v in token["fingerprints"].items()})
        try:
            result = run.apply()
            db.session.commit()
        except (IntegrityError, StaleDataError):
            db.session.rollback()
            return render_template("admin/bulk/result.html", resource=resource, action=action, back=back,
                                   failed=RACED), 409
        return render_template("admin/bulk/result.html", resource=resource, action=action, back=back, result=result,
                               skipped=[o for o in result.outcomes if o.outcome != CHANGED], shown=SHOWN)

    # -- what the pages show --------------------------------------------------------
    def argument_label(self, action: BulkAction) -> str | None:
        return f"New {self.resource.blank_form()[action.argument].label.text.lower()}" if action.argument else None

    def show(self, name: str, value) -> str:
        """A field's value as the list shows it: a user's name for a reference, Done/Open for a flag."""
        if value is None:
            return "none" if name in self.resource.relations else ""
        filter_ = self.resource.filters.get(name)
        if filter_ is not None and filter_.kind in ("select", "ref"):
            return filter_.show(value)
        return str(value)

    def register(self) -> None:
        bp.add_url_rule(f"/{self.resource.name}/bulk", f"{self.resource.singular}_bulk", self.view, methods=["POST"])


PAGES = {name: BulkPages(resource) for name, resource in REGISTRY.items() if resource.bulk_actions}
for _pages in PAGES.values():
    _pages.register()


@bp.app_template_global("bulk_toolbar")
def bulk_toolbar(resource: Resource, count: dict) -> SimpleNamespace | None:
    """What a list's bulk toolbar offers: the actions, their arguments' fields, and
    whether "all matching" is within the limit (None: the resource has no actions)."""
    if resource.name not in PAGES:
        return None
    form = resource.blank_form()
    matching_count = count["matching"]
    within = matching_count["exact"] and matching_count["value"] <= MAX_ROWS
    return SimpleNamespace(actions=resource.bulk_actions, form=form, limit=MAX_ROWS, within=within,
                           arguments=sorted({a.argument for a in resource.bulk_actions if a.argument}),
                           url=url_for(f"admin.{resource.singular}_bulk"))

