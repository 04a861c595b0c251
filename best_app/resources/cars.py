"""Cars, each owned by exactly one user; found by model or by their owner."""
from best_app.forms import CarForm
from best_app.models import Car
from best_app.resources import register
from best_app.resources.declaration import BULK_DELETE, BulkAction, ListColumn, Resource

CARS = register(Resource(
    name="cars",
    model=Car,
    form=CarForm,
    label="car",
    title_field="model",
    description="Cars, each owned by exactly one user.",
    fields=("id", "model", "owner_id", "created_at", "updated_at", "version"),
    writable=("model", "owner_id"),
    relations={"owner_id": "users"},
    exact_filters=("model",),
    sorts=("id", "model", "owner_id", "created_at", "updated_at"),
    search=("model",),
    search_relations=("owner_id",),
    list_columns=(ListColumn("model", "Model", "title"), ListColumn("owner_id", "Owner", "ref"),
                  ListColumn("updated_at", "Changed", "when", priority=2)),
    bulk_actions=(BulkAction("transfer", "Transfer to", argument="owner_id"), BULK_DELETE),
))
