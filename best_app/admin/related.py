"""The rows of other resources that refer to a row, shown inline on its edit page.

For every resource that refers to this one (best_app.resources.referrers),
the edit page lists the first few of its rows that do (a user's cars, their
open tasks: a declaration's `related_filters` narrow the list), says how many
more there are with a link to the filtered list, and holds a small form to
add one. That form is the other resource's own form, posted to its own create
page with this page as `back`, so its rules, messages and redirect are the
ones every create has.
"""
from __future__ import annotations

from flask import url_for
from werkzeug.datastructures import MultiDict

from best_app.caching import cached
from best_app.resources import Resource, referrers
from best_app.resources.counting import counts
from best_app.resources.query import fetch_page, parse_list_args

SHOWN = 5  # rows listed per referring resource; "N more" links to the rest


def inline_form(other: Resource, reference: str):
    """A blank form of `other` for the inline "add", its ids prefixed so that they
    cannot collide with the page's own form; the reference is a hidden field."""
    form = other.form(formdata=None)
    for name in other.writable:
        field = form[name]
        field.id = field.label.field_id = f"new-{other.singular}-{name}"
    return form, [form[name] for name in other.writable if name != reference]


def _more(matching: dict, shown: int) -> str | None:
    """"3 more", "more than 10,000 more", or None when every row is shown."""
    rest = matching["value"] - shown
    if rest <= 0:
        return None
    return f"{rest:,} more" if matching["exact"] else f"over {rest:,} more"


def sections(resource: Resource, row, here: str) -> list[dict]:
    """One section per referring resource: its first rows, how many more, links and the add form.
    `here` is this page's URL, which the rows' links and the add form return to."""
    found = []
    for other, field in referrers(resource.name):
        scope = {field: str(row.id), **other.related_filters}
        query = parse_list_args(other, MultiDict(scope), default_limit=SHOWN)
        page = fetch_page(other, query)
        count, _status = cached(other.table, f"count:{query.count_key()}", lambda: counts(other, query))
        form, fields = inline_form(other, field)
        found.append({
            "resource": other, "field": field, "items": page.items, "form": form, "fields": fields,
            "more": _more(count["matching"], len(page.items)),
            "scope_words": [other.filters[name].show(query.filters[name]) for name in other.related_filters],
            "list_url": url_for(f"admin.{other.name}", **{field: row.id}),
            "scoped_url": url_for(f"admin.{other.name}", **scope),
            "create_url": url_for(f"admin.{other.singular}_create", **{field: row.id}, back=here),
            "post_url": url_for(f"admin.{other.singular}_create"),
        })
    return found
