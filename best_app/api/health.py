"""GET /api/v1/health: is this replica able to serve? Public, and says nothing secret.

Each dependency is reported by name, so a 503 says which one is down. A down
database answers within DB_CONNECT_TIMEOUT (a refused connection at once), not
after the system's TCP timeout; failures are logged in one line, since an
orchestrator polls this every few seconds throughout an outage.
"""
import logging

from flask import jsonify
from sqlalchemy import text

from best_app.api import bp
from best_app.caching import ping
from best_app.errors import (DATABASE_RETRY_AFTER_SECONDS, database_unavailable, rollback_quietly,
                             summarise)
from best_app.extensions import db

log = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as error:
        # An outage in one line; anything else (a bug) with its traceback.
        log.warning("database health check failed: %s", summarise(error),
                    exc_info=not database_unavailable(error))
        rollback_quietly()
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
    if not healthy:
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response
