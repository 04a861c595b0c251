"""/api/v1/users: the standard routes plus what is special about users.

The password is write-only and only its hash is stored; usernames and emails
are unique (409 naming the field); a user who still owns cars is deleted only
on request (?cascade=true), and their tasks become unassigned.
"""
from __future__ import annotations

from sqlalchemy import delete, func, select

from best_app.api import bp
from best_app.api.cars import CARS
from best_app.api.crud import list_response, register
from best_app.api.listing import TRUE, FALSE, parse_list_args
from best_app.api.problems import ApiError, bad_parameter
from best_app.api.resource import MAX_ID, Resource
from best_app.api.tasks import TASKS
from best_app.extensions import db
from best_app.forms import UserForm
from best_app.models import Car, Task, User


class UserResource(Resource):
    def apply(self, obj, form) -> None:
        super().apply(obj, form)
        if form.password.data:
            obj.set_password(form.password.data)

    def conflicts(self, form, obj) -> dict[str, str]:
        return User.taken_fields(form.username.data, form.email.data, exclude_id=obj.id)

    def delete(self, obj, params: dict) -> None:
        cascade = params.get("cascade", "false").lower()
        if cascade not in TRUE + FALSE:
            raise bad_parameter("cascade", "must be true or false")
        cars = db.session.scalar(select(func.count()).select_from(Car).where(Car.owner_id == obj.id))
        if cars and cascade not in TRUE:
            raise ApiError(409, f"User {obj.id} still owns {cars} car(s); delete or reassign them first, "
                                "or repeat with ?cascade=true to delete them too.", dependents={"cars": cars})
        if cars:
            db.session.execute(delete(Car).where(Car.owner_id == obj.id))
        Task.unassign_all(obj.id)  # with new versions, so the tasks' ETags change
        db.session.delete(obj)


USERS = register(UserResource(
    name="users",
    model=User,
    form=UserForm,
    fields=("id", "username", "email", "name", "role", "is_admin", "created_at", "updated_at", "version"),
    writable=("username", "email", "name", "role", "is_admin", "password"),
    write_only=("password",),
    filters=("role", "is_admin"),
    sorts=("id", "username", "name", "role", "created_at", "updated_at"),
    search=("username", "email", "name"),
    delete_params=("cascade",),
    description="People who own cars and work on tasks. The password is write-only.",
))


def _scoped_list(resource: Resource, field: str, id: int):
    query = parse_list_args(resource, fixed={field: id})
    # An unknown user is a 404 rather than an empty list. The page is cached in
    # the resource's namespace, which deleting a user invalidates too.
    return list_response(resource, query, scope=f"user:{id}",
                         exists=lambda: id <= MAX_ID and db.session.get(User, id) is not None)


@bp.get("/users/<int:id>/cars")
def user_cars(id: int):
    return _scoped_list(CARS, "owner_id", id)


@bp.get("/users/<int:id>/tasks")
def user_tasks(id: int):
    return _scoped_list(TASKS, "assignee_id", id)
