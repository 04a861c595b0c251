"""The data model: users, the cars they own, the tasks they work on, API tokens,
admin browser sessions (and the shared cache's era, the database's record of
cache invalidations)."""
from best_app.models.admin_session import AdminSession
from best_app.models.cache_era import CacheEra
from best_app.models.car import Car
from best_app.models.change import Change
from best_app.models.login_event import LoginEvent
from best_app.models.task import Task
from best_app.models.token import ApiToken, hash_token
from best_app.models.user import DEFAULT_ROLE, ROLES, USERNAME_PATTERN, User

__all__ = ["AdminSession", "ApiToken", "CacheEra", "Car", "Change", "DEFAULT_ROLE", "ROLES", "Task", "USERNAME_PATTERN",
           "User", "hash_token", "LoginEvent"]
