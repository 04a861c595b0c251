"""Tasks: list (optionally one assignee's, open or done), create, edit and delete."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from best_app.admin import bp
from best_app.admin.editing import CONFLICT, DELETE_CONFLICT, get_or_404, refresh_version, save
from best_app.admin.listing import Sort, int_arg, paginate, search_clause, search_text
from best_app.extensions import db
from best_app.forms import TaskForm, VersionedForm, version_mismatch
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
    if form.validate_on_submit() and save(Task(), form, _apply(form)):
        flash(f"Task {form.title.data} was created.", "success")
        return redirect(url_for("admin.tasks"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/tasks/form.html", form=form, task=None), status


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
def task_edit(task_id: int):
    task = get_or_404(Task, task_id)
    form = TaskForm(obj=task)
    status, conflict = 200, False
    if form.validate_on_submit():
        if save(task, form, _apply(form)):
            flash(f"Task {task.title} was saved.", "success")
            return redirect(url_for("admin.tasks"))
        conflict, status = True, 409
        refresh_version(task, form)
    elif request.method == "POST":
        status = 400
    return render_template("admin/tasks/form.html", form=form, task=task, conflict=conflict and CONFLICT), status


@bp.route("/tasks/<int:task_id>/delete", methods=["GET", "POST"])
def task_delete(task_id: int):
    task = get_or_404(Task, task_id)
    form = VersionedForm(obj=task)
    message, status = None, 200
    if request.method == "POST":
        if version_mismatch(form, task.version):
            message, status = DELETE_CONFLICT, 409
            form.version.data = str(task.version)
        else:
            title = task.title
            db.session.delete(task)
            db.session.commit()
            flash(f"Task {title} was deleted.", "success")
            return redirect(url_for("admin.tasks"))
    return render_template("admin/tasks/delete.html", task=task, form=form, message=message), status
