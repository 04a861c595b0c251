"""Server-rendered admin pages under /admin, for logged-in administrators only."""
from flask import Blueprint, redirect, url_for

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
def index():
    return redirect(url_for("api.health"))
