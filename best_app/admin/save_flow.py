"""Where a create or edit page goes after saving, and what it says there.

The admin came from a list (its search, filters, sort, page and page size)
or from the page of a row this resource refers to (a user's page, adding a
car). That page travels with the form as `back`; it is followed only when it
is a relative URL on this site naming one of those pages, so no form can be
made to redirect elsewhere. After "Save" the admin is back on it, with the
saved row highlighted (`?highlight=<id>#row-<id>`); "Save and add another"
opens a new form with the same `back`, "Save and continue editing" the row.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app, flash, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from best_app.admin.auth import safe_next
from best_app.forms import MAX_ID
from best_app.resources import REGISTRY, Resource

HIGHLIGHT = "highlight"
THEN_ADD, THEN_EDIT = "add", "edit"  # the values of the extra submit buttons (name="then")
MAX_BACK_IN_FLASH = 500


def _endpoint(target: str) -> tuple[str, dict] | None:
    """The endpoint and arguments a GET of the site path `target` reaches, or None."""
    path = urlsplit(target).path
    root = request.script_root
    if root and path.startswith(root):
        path = path[len(root):]
    try:
        return current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:  # no such page (404), or not a GET (405), or a redirect
        return None


def back_pages(resource: Resource) -> dict[str, str | None]:
    """Endpoint -> the reference field it fills in, for each page a form of `resource`
    may return to: its own list, and the edit page of every resource it refers to."""
    pages: dict[str, str | None] = {f"admin.{resource.name}": None}
    for field, target in resource.relations.items():
        pages[f"admin.{REGISTRY[target].singular}_edit"] = field
    return pages


def valid_back(resource: Resource, raw: str | None) -> str | None:
    """`raw` if it is a relative URL of one of `back_pages`, else None."""
    target = safe_next(raw)
    if target is None:
        return None
    found = _endpoint(target)
    if found is None or found[0] not in back_pages(resource):
        return None
    return without_highlight(target)


def without_highlight(target: str) -> str:
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != HIGHLIGHT]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def highlighted(target: str, row_id: int) -> str:
    """`target` with the row `row_id` highlighted and scrolled to."""
    parts = urlsplit(without_highlight(target))
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), (HIGHLIGHT, str(row_id))])
    return urlunsplit(("", "", parts.path, query, f"row-{row_id}"))


def prefill(resource: Resource, back: str) -> dict[str, str]:
    """The references a new row made from `back` starts with: the user of the user's page it
    came from, or the owner a list of cars is filtered by."""
    found = _endpoint(back)
    filled = {}
    if found is not None and back_pages(resource).get(found[0]):
        filled[back_pages(resource)[found[0]]] = str(found[1]["id"])
    for name, value in parse_qsl(urlsplit(back).query):
        if name in resource.relations and value.isascii() and value.isdigit():
            filled[name] = value
    return filled


def done_url(resource: Resource, row, back: str) -> str:
    """Where the save button pressed leads, once `row` is saved."""
    then = request.form.get("then")
    if then == THEN_EDIT:
        return url_for(f"admin.{resource.singular}_edit", id=row.id, back=back)
    if then == THEN_ADD:
        return url_for(f"admin.{resource.singular}_create", back=back, **prefill(resource, back))
    return highlighted(back, row.id)


def _link(resource: Resource, row_id: int, title: str, back: str) -> Markup:
    """A link to a row's page (which returns to `back`), its title escaped."""
    # A flash message travels in the session cookie, which browsers cap at 4 KB.
    args = {"back": back} if len(back) <= MAX_BACK_IN_FLASH else {}
    return Markup('<a class="alert-link" href="{}">{}</a>').format(
        url_for(f"admin.{resource.singular}_edit", id=row_id, **args), title)


def flash_saved(resource: Resource, row, verb: str, back: str) -> None:
    """"Car <a>Volvo</a> was created.", linking to the row."""
    link = _link(resource, row.id, getattr(row, resource.title_field), back)
    flash(Markup("{} {} was {}.").format(resource.singular.capitalize(), link, verb), "success")


def highlight_arg() -> int | None:
    raw = request.args.get(HIGHLIGHT, "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID else None


def note_if_elsewhere(resource: Resource, highlight: int | None, items: list[dict]) -> None:
    """Say so when the row just saved is not on the page shown: the list's search, filters
    or sort put it on another page, or leave it out."""
    if highlight is None or any(item["id"] == highlight for item in items):
        return
    title = resource.title_of(highlight)
    if title is None:
        return
    link = _link(resource, highlight, title, without_highlight(request.full_path))
    flash(Markup("{} {} is not on this page of the list: its search, filters or sort put it elsewhere.")
          .format(resource.singular.capitalize(), link), "info")
