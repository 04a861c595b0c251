"""Tasks, optionally assigned to a user; found by title or by their assignee."""
from best_app.forms import TaskForm
from best_app.models import Task
from best_app.resources import register
from best_app.resources.declaration import BULK_DELETE, BulkAction, ListColumn, Resource

TASKS = register(Resource(
    name="tasks",
    model=Task,
    form=TaskForm,
    label="task",
    title_field="title",
    description="Tasks, optionally assigned to a user; deleting the user unassigns them.",
    fields=("id", "title", "description", "done", "assignee_id", "created_at", "updated_at", "version"),
    writable=("title", "description", "done", "assignee_id"),
    relations={"assignee_id": "users"},
    related_filters={"done": "false"},  # a user's page lists their open tasks
    # Not assignee_id: it can be null, which a keyset cannot order past.
    sorts=("id", "title", "done", "created_at", "updated_at"),
    search=("title",),
    search_relations=("assignee_id",),
    list_columns=(ListColumn("title", "Title", "title"), ListColumn("done", "State", "bool"),
                  ListColumn("assignee_id", "Assignee", "ref"), ListColumn("updated_at", "Changed", "when", priority=2)),
    boolean_labels={"done": ("Done", "Open")},
    chart="done",
    bulk_actions=(BulkAction("mark_done", "Mark done", sets={"done": True}),
                  BulkAction("mark_open", "Mark open", sets={"done": False}),
                  BulkAction("assign", "Assign to", argument="assignee_id"),
                  BulkAction("unassign", "Unassign", sets={"assignee_id": None}), BULK_DELETE),
))
