"""What an admin list page needs to link to itself: sort, page, filter and page-size links
that keep everything else (search, filters, sort), and the filter panel's state.

Every link uses the list's query parameters, the same as the JSON API's, so
any view of a list is a bookmarkable URL.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from flask import abort, request, url_for

from best_app.resources import Resource
from best_app.resources.filters import Filter
from best_app.resources.params import BadParameter
from best_app.resources.query import ListQuery, Page, newest_first


@dataclass
class ActiveFilter:
    filter: Filter
    text: str  # "Role: Teacher"
    remove_url: str


class ListView:
    def __init__(self, resource: Resource, query: ListQuery, args, page_sizes: tuple[int, ...]):
        self.resource, self.query, self.page_sizes = resource, query, page_sizes
        # The list's defining parameters, as given: every link keeps them.
        self.args = {name: value for name, value in args.items() if name not in ("cursor", "count")}

    def url(self, **changes) -> str:
        merged = {**self.args, **changes}
        return url_for(request.endpoint, **{k: v for k, v in merged.items() if v not in (None, "")})

    def page_url(self, cursor: str | None) -> str:
        return self.url(cursor=cursor)

    def sort_url(self, field: str) -> str:
        current = self.query.sort == field
        descending = not self.query.descending if current else False
        sort = f"-{field}" if descending else field
        return self.url(sort=None if sort == "id" else sort)

    def sort_state(self, field: str) -> str | None:
        """'ascending' or 'descending' for the column the list is sorted by, else None."""
        if self.query.sort != field:
            return None
        return "descending" if self.query.descending else "ascending"

    def hidden_args(self, *leave_out: str) -> dict:
        """The arguments a GET form (search, filters, page size) must carry along."""
        return {name: value for name, value in self.args.items() if name not in leave_out}

    def panel_hidden_args(self) -> dict:
        """What the filter panel's form carries along besides its own fields."""
        return self.hidden_args(*self.resource.filters, "limit")

    @property
    def active(self) -> list[ActiveFilter]:
        filters = self.resource.filters
        return [ActiveFilter(filters[name], f"{filters[name].label}: {filters[name].show(value)}",
                             self.url(**{name: None}))
                for name, value in self.query.filters.items() if name in filters]

    def raw(self, name: str) -> str:
        return self.args.get(name, "")

    @property
    def panel(self) -> list[Filter]:
        return list(self.resource.filters.values())


def newest_first_page(list_name: str, statement, model, per_page: int, sort_column=None,
                      **link_args) -> tuple[Page, SimpleNamespace]:
    """A page of a log (tokens, changes, login events) newest first, and the `view` the
    pager macro links with: this endpoint, with `link_args` kept. A cursor not ours is a 400."""
    try:
        items, cursors = newest_first(list_name, statement, model, request.args.get("cursor") or None, per_page,
                                      sort_column)
    except BadParameter as error:
        abort(400, description=str(error))
    view = SimpleNamespace(page_sizes=(), page_url=lambda cursor: url_for(
        request.endpoint, **request.view_args, **link_args, **({"cursor": cursor} if cursor else {})))
    return Page(items=items, **cursors), view
