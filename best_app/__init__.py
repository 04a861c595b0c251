"""best_app: users, the cars they own and the tasks they work on.

`create_app` builds the application: configuration, extensions, blueprints,
error handlers and CLI commands. It has no other side effects: no tables are
created, no migrations run and no network connection is opened here.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from best_app import log_summary
from best_app.app_class import BestFlask
from config import Config, ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: object | dict | None = None) -> Flask:
    """Build the app. `config` is a settings object (default: Config from the
    environment) or a dict of overrides applied on top of it, as tests do."""
    instance_path = (config.get("INSTANCE_PATH") if isinstance(config, dict)
                     else getattr(config, "INSTANCE_PATH", None)) or os.environ.get("INSTANCE_PATH")
    app = BestFlask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(instance_path or PROJECT_ROOT / "instance"),
    )
    load_config(app, config)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_cli(app)
    return app


def load_config(app: Flask, config: object | dict | None) -> None:
    if isinstance(config, dict):
        app.config.from_object(Config())
        app.config.update(config)
    else:
        app.config.from_object(config if config is not None else Config())
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _read_instance_secret(app)
    if not app.config.get("SECRET_KEY") and not (app.debug or app.testing):
        raise ConfigError("SECRET_KEY is not set; set it to a long random string (for example: "
                          "python -c 'import secrets; print(secrets.token_hex(32))')")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        # The embedded default: a SQLite file in the instance folder.
        os.makedirs(app.instance_path, exist_ok=True)
        path = Path(app.instance_path) / "best_app.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"


def _read_instance_secret(app: Flask) -> str | None:
    # `make run` generates a key once and keeps it here, so that the embedded
    # default (and `flask` commands run beside it) need no environment.
    path = Path(app.instance_path) / "secret_key"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def configure_logging(app: Flask) -> None:
    level = app.config.get("LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.logger.setLevel(level)
    # Alembic narrates its plugin set-up at INFO on every command.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # waitress warns of a full task queue once per queued request (best_app.log_summary).
    log_summary.summarise_repeating()


def register_extensions(app: Flask) -> None:
    from best_app import auth, db_pool, hit_replay, history, sqlite
    from best_app.extensions import cache, csrf, db, limiter, migrate

    db_pool.init_app(app)  # db.init_app, and the pool's check of a connection
    sqlite.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    cache.init_app(app)
    history.init_app(app)
    with auth.browser_only(app):  # the admin pages' extensions, which the API does not use
        csrf.init_app(app)
        limiter.init_app(app)
        auth.init_app(app)

    # Inside ProxyFix, so that replays are keyed by the host and scheme it sets.
    hit_replay.init_app(app)
    register_proxy_fix(app)


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* for PROXY_FIX_HOPS hops, from TRUSTED_PROXIES only."""
    hops = app.config.get("PROXY_FIX_HOPS", 0)
    if not hops:
        return
    from best_app.proxies import TrustedProxyFix
    from config import parse_networks

    networks = app.config.get("TRUSTED_PROXIES") or ()
    if isinstance(networks, str):
        networks = parse_networks("TRUSTED_PROXIES", networks)
    if not networks:
        # Guessing would be wrong either way: trusting everyone lets any client
        # claim any address, and trusting no one makes every client look like
        # the proxy (one shared login throttle, http:// URLs behind HTTPS).
        raise ConfigError(f"PROXY_FIX_HOPS is {hops} but TRUSTED_PROXIES is not set: list the proxies' "
                          "addresses or networks (for example 127.0.0.1/32,::1/128), or set PROXY_FIX_HOPS=0")
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, networks, hops)


def register_blueprints(app: Flask) -> None:
    from best_app.admin import bp as admin_bp
    from best_app.api import bp as api_bp
    from best_app.extensions import csrf

    # The API authenticates with bearer tokens, never the session cookie, so
    # cross-site requests cannot ride on a browser's login: no CSRF needed.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)


def register_error_handlers(app: Flask) -> None:
    from best_app.errors import register_error_handlers as register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from best_app.security import init_app as init_security

    init_security(app)


def register_cli(app: Flask) -> None:
    from best_app.cli import register

    register(app)
