"""Server-rendered admin pages under /admin, for logged-in administrators only.

The login guard is a blueprint-wide hook rather than a decorator on each
view, so a new page cannot forget it; only the endpoints in PUBLIC are open.
Admin responses are never stored by browsers or proxies: every page carries
a CSRF token (at least the logout form's) and private data.
"""
from flask import Blueprint, request
from flask_login import current_user

from best_app.extensions import login_manager
from best_app.history import set_actor

bp = Blueprint("admin", __name__, url_prefix="/admin")

PUBLIC = {"admin.login"}


@bp.before_request
def require_admin():
    if request.endpoint in PUBLIC:
        return None
    # The user loader only ever returns admins, so "authenticated" means "admin".
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    set_actor(f"admin {current_user.username} (#{current_user.id})", current_user.id, "admin")
    return None


@bp.after_request
def never_cache(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Vary", "Cookie")
    return response


from best_app.admin import account, audit, auth, bulk, changes, dashboard, lookup, resources, tokens  # noqa: E402,F401
