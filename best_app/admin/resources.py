"""The admin pages of every registered resource: list, create, edit and delete.

Built from the resource's declaration (best_app.resources), with the same
query parameters, filters, search, paging, counts, form-to-row copying and
delete rules as the JSON API. A resource gets these pages by being
registered; templates/admin/<name>/<page>.html overrides the generic
templates/admin/resource/<page>.html where a resource wants its own look.
"""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from best_app.admin import bp
from best_app.admin import conflict, related, save_flow
from best_app.admin.editing import create_page, delete_page, edit_page, get_or_404, save
from best_app.admin.list_view import ListView
from best_app.caching import cached
from best_app.extensions import db
from best_app.history import set_actor, state_as_of
from best_app.forms import MAX_ID, UserRefField
from best_app.resources import REGISTRY, Resource, referrers
from best_app.resources.counting import Count, counts
from best_app.resources.declaration import DELETE
from best_app.resources.params import BadParameter
from best_app.resources.query import fetch_page, parse_list_args

PER_PAGE, PAGE_SIZES = 25, (25, 50, 100)
PREVIEW = 50  # rows listed per dependent on a delete page; the total is always given


class ResourcePages:
    """The four pages of one resource. Subclass and override a method for a resource
    that needs something the declaration cannot say."""

    def __init__(self, resource: Resource):
        self.resource = resource

    # -- helpers ---------------------------------------------------------------
    def template(self, page: str) -> list[str]:
        return [f"admin/{self.resource.name}/{page}.html", f"admin/resource/{page}.html"]

    def list_url(self, **args) -> str:
        return url_for(f"admin.{self.resource.name}", **args)

    def back_url(self) -> str:
        """Where a save or delete returns to: the list the admin came from (its search,
        filters, sort and page) or the page of a row this one refers to, else the plain list."""
        return save_flow.valid_back(self.resource, request.values.get("back")) or self.list_url()

    def ref_titles(self, items: list[dict]) -> dict[str, dict[int, str]]:
        """Reference field -> {id: title} for the rows on a page: one query per reference."""
        titles = {}
        for field, target_name in self.resource.relations.items():
            ids = {item[field] for item in items if item.get(field) is not None}
            target = REGISTRY[target_name]
            titles[field] = dict(db.session.execute(
                select(target.column("id"), target.column(target.title_field))
                .where(target.column("id").in_(ids))).all()) if ids else {}
        return titles

    # -- the pages -------------------------------------------------------------
    def list(self):
        resource = self.resource
        # The filter panel submits every field; an empty one means "any".
        args = MultiDict([(name, value) for name, value in request.args.items(multi=True)
                          if value != "" and name != save_flow.HIGHLIGHT])
        try:
            query = parse_list_args(resource, args, default_limit=PER_PAGE)
        except BadParameter as error:
            abort(400, description=str(error))
        page = fetch_page(resource, query)
        count, _status = cached(resource.table, f"count:{query.count_key()}", lambda: counts(resource, query))
        view = ListView(resource, query, args, PAGE_SIZES)
        highlight = save_flow.highlight_arg()
        save_flow.note_if_elsewhere(resource, highlight, page.items)
        return render_template(self.template("list"), resource=resource, page=page, view=view, count=count,
                               refs=self.ref_titles(page.items), referrers=referrers(resource.name),
                               highlight=highlight)

    def _save(self, row, form) -> bool | None:
        """True saved, False conflict, None invalid (errors are on the form)."""
        resource = self.resource
        problems = {**resource.edit_problems(row, form, current_user), **resource.conflicts(form, row)}
        for name, message in problems.items():
            form[name].errors.append(message)
        if problems:
            return None

        def apply(target):
            resource.apply(target, form)
            db.session.add(target)

        saved = save(row, form, apply)
        if saved:
            for note in resource.save_notes(row):
                flash(note, "warning")
        if saved is None:  # a duplicate committed between our check and our write: name the field
            for name, message in resource.conflicts(form, row).items():
                form[name].errors.append(message)
        return saved

    def _context(self, row) -> dict:
        back = self.back_url()
        here = url_for(f"admin.{self.resource.singular}_edit", id=row.id, back=back) if row is not None else None
        return {"resource": self.resource, "row": row, "back": back, "here": here}

    def _on_saved(self, row, verb: str, back: str):
        def saved() -> str:
            save_flow.flash_saved(self.resource, row, verb, back)
            return save_flow.done_url(self.resource, row, back)
        return saved

    def _restoring(self, row_id: int | None):
        """The change to restore (?restore=<change id>, or the form's field), its values and the
        differences from the row as it is, or None. A restore is an edit like any other: the
        form is filled with the old values, and saving goes through its rules and the version check."""
        raw = request.values.get("restore", "")
        if not (raw.isascii() and raw.isdigit()) or row_id is None:
            return None
        if not (0 < int(raw) <= MAX_ID and 0 < row_id <= MAX_ID):
            abort(404)  # no change or row can have that id (and the database could not take it)
        values = state_as_of(self.resource, row_id, int(raw))
        if values is None:
            abort(404)
        # A restore is recorded as one (source "restore"), by the admin who made it.
        set_actor(f"admin {current_user.username} (#{current_user.id})", current_user.id, "restore")
        return int(raw), values

    def _restore_context(self, row, form, change_id: int, values: dict) -> dict:
        differences = [(form[name].label.text, "" if row is None else getattr(row, name), value)
                       for name, value in values.items()
                       if name not in self.resource.write_only and (row is None or getattr(row, name) != value)]
        return {"restore": {"change_id": change_id, "differences": differences}}

    def create(self):
        resource = self.resource
        form, row = resource.form(), resource.model()
        context = self._context(None)
        restoring = self._restoring(request.values.get("restore_id", type=int))
        if restoring is not None:  # re-creating a deleted row, with its id
            change_id, values = restoring
            row.id = request.values.get("restore_id", type=int)
            if db.session.get(resource.model, row.id) is not None:
                abort(409, description="That row exists again: restore it from its own page.")
            if request.method == "GET":
                form = resource.form(formdata=None, **values)
            context.update(self._restore_context(None, form, change_id, values), restore_id=row.id)
        elif request.method == "GET":
            for name in resource.relations:  # "add a car" from a user's page: the owner filled in
                raw = request.args.get(name, "")
                if raw.isascii() and raw.isdigit() and isinstance(form[name], UserRefField):
                    form[name].process_data(int(raw))
        return create_page(form, lambda: self._save(row, form), template=self.template("form"), context=context,
                           on_saved=self._on_saved(row, "created", context["back"]))

    def edit(self, id: int):
        resource = self.resource
        row = get_or_404(resource.model, id)
        form, context = resource.form(obj=row), self._context(row)
        # Called by the template, so that a save that redirects does not look them up.
        context.update(related=lambda: related.sections(resource, row, context["here"]),
                       highlight=save_flow.highlight_arg())
        restoring = self._restoring(id)
        if restoring is not None:
            change_id, values = restoring
            if request.method == "GET":  # the preview: the old values, to save over this version
                form = resource.form(formdata=None, obj=None, **values, version=str(row.version))
            context.update(self._restore_context(row, form, change_id, values))
        # What the form was loaded with: the row as it is, unless the form says (a POST).
        originals = conflict.posted_originals(resource) if request.method == "POST" else None
        context["originals"] = originals if originals is not None else conflict.loaded_values(resource, row)

        def on_conflict():
            context["conflict_rows"] = conflict.merge(resource, row, form, originals)
            context["originals"] = conflict.loaded_values(resource, row)  # the next save starts from here

        return edit_page(row, form, lambda: self._save(row, form), template=self.template("form"), context=context,
                         on_saved=self._on_saved(row, "saved", context["back"]), on_conflict=on_conflict)

    def _delete_preview(self, row) -> dict:
        resource, effects = self.resource, []
        for dependent in resource.dependents:
            other = REGISTRY[dependent.resource]
            reference = other.column(dependent.field)
            rows = db.session.execute(
                select(other.column("id"), other.column(other.title_field)).where(reference == row.id)
                .order_by(other.column("id")).limit(PREVIEW)).all()
            total = db.session.scalar(select(func.count()).select_from(other.model).where(reference == row.id))
            effects.append({"resource": other, "rows": rows, "count": total,
                            "deleted": dependent.on_delete == DELETE})
        return {**self._context(row), "effects": effects, "cascaded": self._cascaded(row),
                "previewed": resource.dependents_fingerprint(row)}

    def _cascaded(self, row) -> list[tuple[str, int]]:
        """Rows of tables that are not resources (API tokens, sessions) that the
        database deletes with this one (ON DELETE CASCADE), as (words, count)."""
        registered = {resource.table for resource in REGISTRY.values()}
        found = []
        for table in db.metadata.sorted_tables:
            for key in table.foreign_keys:
                if (key.column.table.name == self.resource.table and table.name not in registered
                        and (key.ondelete or "").upper() == "CASCADE"):
                    count = db.session.scalar(select(func.count()).select_from(table).where(key.parent == row.id))
                    if count:
                        words = table.name.replace("_", " ").replace("api ", "API ")
                        found.append((words.removesuffix("s") if count == 1 else words, count))
        return found

    def delete(self, id: int):
        resource = self.resource
        row = get_or_404(resource.model, id)
        outdated = lambda: request.form.get("previewed", "") != resource.dependents_fingerprint(row)  # noqa: E731
        name = getattr(row, resource.title_field)
        refusal = resource.delete_refusal(row, current_user)
        return delete_page(row, lambda: resource.delete(row, confirmed=True), template=self.template("delete"),
                           context=lambda: {**self._delete_preview(row), "refused": refusal is not None},
                           deleted_message=f"{resource.singular.capitalize()} {name} was deleted.",
                           done_url=self.back_url(), refusal=refusal, preview_outdated=outdated)

    # -- routes ----------------------------------------------------------------
    def register(self) -> None:
        name, one = self.resource.name, self.resource.singular
        bp.add_url_rule(f"/{name}", name, self.list, methods=["GET"])
        bp.add_url_rule(f"/{name}/new", f"{one}_create", self.create, methods=["GET", "POST"])
        bp.add_url_rule(f"/{name}/<int:id>", f"{one}_edit", self.edit, methods=["GET", "POST"])
        bp.add_url_rule(f"/{name}/<int:id>/delete", f"{one}_delete", self.delete, methods=["GET", "POST"])


PAGES = {name: ResourcePages(resource) for name, resource in REGISTRY.items()}
for _pages in PAGES.values():
    _pages.register()


# -- template filters the generic templates use ------------------------------------

@bp.app_template_filter("count_words")
def count_words(count: dict) -> str:
    return Count(**count).words()


@bp.app_template_filter("singular")
def singular(resource_name: str) -> str:
    return REGISTRY[resource_name].singular


@bp.app_template_filter("reference_args")
def reference_args(filters: dict, resource: Resource) -> dict:
    """A list's reference filters as arguments for its create page (a user's cars: "add a car" for them)."""
    return {name: value for name, value in filters.items() if name in resource.relations and value is not None}


@bp.app_template_filter("clear_args")
def clear_args(filters: dict) -> dict:
    return {name: None for name in filters}


@bp.app_context_processor
def navigation() -> dict:
    def nav_resources() -> list[tuple[str, str, str]]:
        """(endpoint, label, endpoint prefix that marks it current) for each resource in the navigation."""
        return [(f"admin.{r.name}", r.title, r.singular) for r in REGISTRY.values() if r.nav]
    return {"nav_resources": nav_resources}
