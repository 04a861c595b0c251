"""GET /api/v1/health."""
from best_app.extensions import db


def test_health_ok(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


def test_health_reports_a_failed_database(app, client):
    # A real failure: point the engine at a database that cannot be opened.
    from sqlalchemy import create_engine

    broken = create_engine("sqlite:////nonexistent-dir/never/there.db")
    engines = db.engines
    original = engines[None]
    engines[None] = broken
    try:
        response = client.get("/api/v1/health")
    finally:
        engines[None] = original
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == "fail"
    assert body["checks"]["cache"] == "ok"
    assert "nonexistent" not in response.get_data(as_text=True)


def test_health_reports_a_failed_cache(app):
    from best_app import create_app
    from config import TestConfig

    config = TestConfig()
    # Nothing listens on port 1: every cache call fails fast.
    config.CACHE_TYPE = "RedisCache"
    config.CACHE_REDIS_URL = "redis://127.0.0.1:1/0"
    broken_cache_app = create_app(config)
    with broken_cache_app.app_context():
        response = broken_cache_app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "cache": "fail"}
