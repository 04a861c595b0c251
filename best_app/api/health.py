"""GET /api/v1/health: is this replica able to serve? Public, and says nothing secret."""
import logging

from flask import jsonify
from sqlalchemy import text

from best_app.api import bp
from best_app.caching import ping
from best_app.extensions import db

log = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        log.warning("database health check failed", exc_info=True)
        db.session.rollback()
        return False


@bp.get("/health")
def health():
    checks = {
        "database": "ok" if _database_ok() else "fail",
        "cache": "ok" if ping() else "fail",
    }
    healthy = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ok" if healthy else "fail", "checks": checks})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
