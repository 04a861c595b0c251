"""Users: people who own cars and work on tasks; admins among them use the admin pages.

The password is write-only and only its hash is stored. An administrator
needs one, unless made explicitly for API tokens only (token_only). Usernames and emails
are unique whatever their case. Deleting a user deletes their cars (only when
confirmed) and unassigns their tasks. Nobody may remove their own admin
rights or delete their own account.
"""
from __future__ import annotations

from sqlalchemy import func

from best_app.forms import UserForm
from best_app.models import User
from best_app.resources import register
from best_app.resources.declaration import DELETE, UNASSIGN, Dependent, ListColumn, Resource


class UserResource(Resource):
    def apply(self, row, form) -> None:
        super().apply(row, form)
        if form.password.data:
            row.set_password(form.password.data)

    def edit_problems(self, row, form, actor) -> dict[str, str]:
        if actor is not None and row.id == actor.id and not form.is_admin.data:
            return {"is_admin": "You cannot remove your own administrator rights."}
        return form.admin_password_problems(was_admin=row.id is not None and row.is_admin,
                                            had_password=bool(row.password_hash))

    def save_notes(self, row) -> list[str]:
        if row.is_admin and not row.password_hash:
            return [f"{row.username} is an administrator for API tokens only: without a password, "
                    "they cannot log in to the admin pages."]
        return []

    def delete_refusal(self, row, actor) -> str | None:
        if actor is not None and row.id == actor.id:
            return "You cannot delete your own account while using it."
        return None


USERS = register(UserResource(
    name="users",
    model=User,
    form=UserForm,
    label="user",
    title_field="username",
    description="People who own cars and work on tasks. The password is write-only. Making an administrator "
                "(creating one, or setting is_admin on a user without a password) needs a password, or "
                "token_only: true for an account that only uses API tokens (422 otherwise).",
    fields=("id", "username", "email", "name", "role", "is_admin", "created_at", "updated_at", "version"),
    # token_only is asked for, not stored: it lets an administrator be made without a password.
    writable=("username", "email", "name", "role", "is_admin", "password", "token_only"),
    write_only=("password", "token_only"),
    sorts=("id", "username", "name", "email", "role", "created_at", "updated_at"),
    # Emails sort as they compare: ignoring case (the unique index on lower(email) serves it).
    sort_expressions={"email": func.lower(User.email)},
    search=("username", "email", "name"),
    unique={"username": "This username is already taken.", "email": "A user with this email already exists."},
    dependents=(Dependent("cars", "owner_id", DELETE), Dependent("tasks", "assignee_id", UNASSIGN)),
    list_columns=(ListColumn("username", "Username", "title", badge=("is_admin", "admin")), ListColumn("name", "Name"),
                  ListColumn("email", "Email", "email", priority=2), ListColumn("role", "Role", "choice", priority=2),
                  ListColumn("updated_at", "Changed", "when", priority=2)),
    boolean_labels={"is_admin": ("Administrators", "Not administrators")},
    secret_fields={"password_hash": "password"},
    counters={"cars": "car_count"},  # kept by the database: has_cars reads it from an index
))
