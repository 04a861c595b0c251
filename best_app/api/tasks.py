"""/api/v1/tasks: the standard resource routes; tasks need nothing special."""
from best_app.api.crud import register
from best_app.api.resource import Resource
from best_app.forms import TaskForm
from best_app.models import Task

TASKS = register(Resource(
    name="tasks",
    model=Task,
    form=TaskForm,
    fields=("id", "title", "description", "done", "assignee_id", "created_at", "updated_at", "version"),
    writable=("title", "description", "done", "assignee_id"),
    filters=("done", "assignee_id"),
    # Not assignee_id: it can be null, which a keyset cannot order past.
    sorts=("id", "title", "done", "created_at", "updated_at"),
    search=("title",),
    description="Tasks, optionally assigned to a user; deleting the user unassigns them.",
))
