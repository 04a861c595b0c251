"""Users: list, create, edit and delete (with a preview of what goes with them)."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import delete, func, select

from best_app.admin import bp
from best_app.admin.editing import create_page, delete_page, edit_page, get_or_404, save
from best_app.admin.listing import Sort, paginate, search_clause, search_text
from best_app.extensions import db
from best_app.forms import UserForm
from best_app.models import Car, Task, User

SORTS = {
    "id": Sort("ID", User.id),
    "username": Sort("Username", User.username),
    "name": Sort("Name", User.name),
    "email": Sort("Email", func.lower(User.email), value=lambda user: user.email.lower()),
    "updated_at": Sort("Changed", User.updated_at),
}
PREVIEW = 50  # rows listed on the delete page; the total is always given


@bp.get("/users")
def users():
    q = search_text(request.args)
    statement = select(User)
    if q:
        statement = statement.where(search_clause((User.username, User.email, User.name), q))
    page = paginate("users", statement, User, SORTS, request.args, {"q": q})
    return render_template("admin/users/list.html", page=page, sorts=SORTS, q=q)


def _check_unique(form: UserForm, user_id: int | None) -> bool:
    taken = User.taken_fields(form.username.data, form.email.data, exclude_id=user_id)
    for field, message in taken.items():
        getattr(form, field).errors.append(message)
    return not taken


def _apply(form: UserForm):
    def apply(user: User) -> None:
        user.username = form.username.data
        user.email = form.email.data
        user.name = form.name.data or ""
        user.role = form.role.data
        user.is_admin = form.is_admin.data
        if form.password.data:
            user.set_password(form.password.data)
        db.session.add(user)
    return apply


def _save(user: User, form: UserForm) -> bool | None:
    """True saved, False conflict, None invalid (errors are on the form)."""
    if user.id == current_user.id and not form.is_admin.data:
        form.is_admin.errors.append("You cannot remove your own administrator rights.")
        return None
    if not _check_unique(form, user.id):
        return None
    saved = save(user, form, _apply(form))
    if saved is None:  # a duplicate committed between our check and our write: name the field
        _check_unique(form, user.id)
    return saved


@bp.route("/users/new", methods=["GET", "POST"])
def user_create():
    form = UserForm()
    return create_page(form, lambda: _save(User(), form), template="admin/users/form.html",
                       context={"user": None}, created_message=lambda: f"User {form.username.data} was created.",
                       done_url=lambda: url_for("admin.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = get_or_404(User, user_id)
    form = UserForm(obj=user)
    return edit_page(user, form, lambda: _save(user, form), template="admin/users/form.html",
                     context={"user": user}, saved_message=lambda: f"User {user.username} was saved.",
                     done_url=url_for("admin.users"))


def _previewed_cars(user: User) -> str:
    """What the confirmation page showed of the user's cars: their number and highest id."""
    count, highest = db.session.execute(
        select(func.count(Car.id), func.coalesce(func.max(Car.id), 0)).where(Car.owner_id == user.id)).one()
    return f"{count}:{highest}"


def _delete_with_cars(user: User) -> None:
    # Cars are RESTRICTed: deleting them is the decision the confirmation page asked for.
    db.session.execute(delete(Car).where(Car.owner_id == user.id))
    Task.unassign_all(user.id)
    db.session.delete(user)


def _delete_preview(user: User) -> dict:
    cars = db.session.scalars(select(Car).where(Car.owner_id == user.id).order_by(Car.id).limit(PREVIEW)).all()
    tasks = db.session.scalars(select(Task).where(Task.assignee_id == user.id).order_by(Task.id).limit(PREVIEW)).all()
    return {
        "user": user, "cars": cars, "tasks": tasks, "cars_previewed": _previewed_cars(user),
        "car_count": db.session.scalar(select(func.count()).where(Car.owner_id == user.id)),
        "task_count": db.session.scalar(select(func.count()).where(Task.assignee_id == user.id)),
    }


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
def user_delete(user_id: int):
    user = get_or_404(User, user_id)
    refusal = ("You cannot delete your own account while logged in with it."
               if user.id == current_user.id else None)
    # A car added (or moved to this user) after the page was shown must not be
    # deleted unseen: the user's version does not change when that happens.
    outdated = lambda: request.form.get("cars_previewed") != _previewed_cars(user)  # noqa: E731
    return delete_page(user, lambda: _delete_with_cars(user), template="admin/users/delete.html",
                       context=lambda: _delete_preview(user), deleted_message=f"User {user.username} was deleted.",
                       done_url=url_for("admin.users"), refusal=refusal, preview_outdated=outdated)
