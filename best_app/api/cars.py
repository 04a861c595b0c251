"""/api/v1/cars: the standard resource routes; cars need nothing special."""
from best_app.api.crud import register
from best_app.api.resource import Resource
from best_app.forms import CarForm
from best_app.models import Car

CARS = register(Resource(
    name="cars",
    model=Car,
    form=CarForm,
    fields=("id", "model", "owner_id", "created_at", "updated_at", "version"),
    writable=("model", "owner_id"),
    filters=("owner_id", "model"),
    sorts=("id", "model", "owner_id", "created_at", "updated_at"),
    search=("model",),
    description="Cars, each owned by exactly one user.",
))
