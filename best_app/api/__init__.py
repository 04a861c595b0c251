"""The JSON API for scripts, under /api/v1. One module per resource.

It authenticates with bearer tokens only and never reads the session
cookie, so it needs no CSRF token and a browser cannot be tricked into
calling it.
"""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from best_app.api import health  # noqa: E402,F401  (routes register on import)
