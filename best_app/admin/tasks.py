"""Tasks: list (optionally one assignee's, open or done), create, edit and delete."""
from __future__ import annotations

from flask import render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from best_app.admin import bp
from best_app.admin.editing import create_page, delete_page, edit_page, get_or_404, save
from best_app.admin.listing import Sort, int_arg, paginate, search_clause, search_text
from best_app.extensions import db
from best_app.forms import TaskForm
from best_app.models import Task, User

SORTS = {
    "id": Sort("ID", Task.id),
    "title": Sort("Title", Task.title),
    "updated_at": Sort("Changed", Task.updated_at),
}
STATES = {"open": False, "done": True}


@bp.get("/tasks")
def tasks():
    q = search_text(request.args)
    assignee_id = int_arg(request.args, "assignee")
    assignee = db.session.get(User, assignee_id) if assignee_id else None
    state = request.args.get("state") if request.args.get("state") in STATES else None
    statement = select(Task).options(selectinload(Task.assignee))
    if q:
        statement = statement.where(search_clause((Task.title,), q))
    if assignee_id:
        statement = statement.where(Task.assignee_id == assignee_id)
    if state:
        statement = statement.where(Task.done.is_(STATES[state]))
    page = paginate("tasks", statement, Task, SORTS, request.args,
                    {"q": q, "assignee": assignee_id, "state": state})
    return render_template("admin/tasks/list.html", page=page, sorts=SORTS, q=q, assignee=assignee,
                           assignee_id=assignee_id, state=state)


def _apply(form: TaskForm):
    def apply(task: Task) -> None:
        task.title = form.title.data
        task.description = form.description.data or None
        task.done = form.done.data
        task.assignee_id = form.assignee_id.data
        db.session.add(task)
    return apply


@bp.route("/tasks/new", methods=["GET", "POST"])
def task_create():
    form = TaskForm()
    if request.method == "GET" and int_arg(request.args, "assignee"):
        form.assignee_id.process_data(int_arg(request.args, "assignee"))
    return create_page(form, lambda: save(Task(), form, _apply(form)), template="admin/tasks/form.html",
                       context={"task": None}, created_message=lambda: f"Task {form.title.data} was created.",
                       done_url=lambda: url_for("admin.tasks"))


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
def task_edit(task_id: int):
    task = get_or_404(Task, task_id)
    form = TaskForm(obj=task)
    return edit_page(task, form, lambda: save(task, form, _apply(form)), template="admin/tasks/form.html",
                     context={"task": task}, saved_message=lambda: f"Task {task.title} was saved.",
                     done_url=url_for("admin.tasks"))


@bp.route("/tasks/<int:task_id>/delete", methods=["GET", "POST"])
def task_delete(task_id: int):
    task = get_or_404(Task, task_id)
    return delete_page(task, lambda: db.session.delete(task), template="admin/tasks/delete.html",
                       context=lambda: {"task": task}, deleted_message=f"Task {task.title} was deleted.",
                       done_url=url_for("admin.tasks"))
