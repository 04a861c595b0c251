"""The JSON API for scripts, under /api/v1, for every resource in the registry.

It authenticates with bearer tokens only and never reads the session
cookie, so it needs no CSRF token and a browser cannot be tricked into
calling it. Any valid token may read; only tokens of admins may write,
since a write can grant admin rights (PATCH is_admin) to anyone.
"""
from flask import Blueprint, g, request

from best_app.api.problems import ApiError
from best_app.auth import authenticate_bearer
from best_app.extensions import limiter
from best_app.history import set_actor

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The API sets no rate limits (and the limiter's hooks skip API requests:
# see auth.browser_only).
limiter.exempt(bp)

PUBLIC_ENDPOINTS = {"api.health", "api.openapi"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@bp.before_request
def require_token():
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return None
    identity = authenticate_bearer()
    if identity is None:
        raise ApiError(401, "Send a valid API token: 'Authorization: Bearer <token>'.",
                       headers={"WWW-Authenticate": 'Bearer realm="best_app"'})
    if request.method not in READ_METHODS and not identity.is_admin:
        raise ApiError(403, "This token may only read: writes need a token of an admin user.")
    g.api_identity = identity
    set_actor(f"token {identity.token_id} of user #{identity.user_id}", identity.user_id, "api")
    return None


from best_app.api import bulk, crud, csv_routes, health, history, openapi  # noqa: E402,F401  (routes register on import)
