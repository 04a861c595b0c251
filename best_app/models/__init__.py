"""The data model: users, the cars they own, the tasks they work on, API tokens."""
from best_app.models.car import Car
from best_app.models.task import Task
from best_app.models.token import ApiToken, hash_token
from best_app.models.user import DEFAULT_ROLE, ROLES, USERNAME_PATTERN, User

__all__ = ["ApiToken", "Car", "DEFAULT_ROLE", "ROLES", "Task", "USERNAME_PATTERN", "User", "hash_token"]
