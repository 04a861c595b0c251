"""The resource registry: every resource the API and the admin pages serve.

Each resource is declared once, in its own module here (see
declaration.Resource); importing the module registers it. Adding a resource
is its model, its form, its declaration module and one line below: the API
routes, the OpenAPI document, the admin pages, the navigation and the
dashboard follow from the registry (docs/adding-a-resource.md).
"""
from __future__ import annotations

from best_app.resources.declaration import Resource

REGISTRY: dict[str, Resource] = {}


def register(resource: Resource) -> Resource:
    REGISTRY[resource.name] = resource
    return resource


def referrers(name: str) -> list[tuple[Resource, str]]:
    """(resource, reference field) for every resource with a reference to `name`."""
    return [(other, fk) for other in REGISTRY.values() for fk, target in other.relations.items() if target == name]


# The catalogue, in navigation order.
from best_app.resources import users, cars, tasks  # noqa: E402,F401  (each registers itself)
