"""A PostgreSQL database for a benchmark: a fresh one on TEST_DATABASE_URL's
server when that is set, else on a throwaway server started for the run."""
from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def postgres_server():
    """Yield a server URL, starting a throwaway server if none is configured."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    output = subprocess.run([str(ROOT / "scripts" / "test-services.sh"), "start"], check=True,
                            capture_output=True, text=True).stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in output.splitlines())
    try:
        yield values["TEST_DATABASE_URL"]
    finally:
        subprocess.run([str(ROOT / "scripts" / "test-services.sh"), "stop", values["TEST_SERVICES_DIR"]],
                       check=False)


@contextlib.contextmanager
def fresh_database(server_url: str, prefix: str = "best_app_bench"):
    """Create an empty database on the server, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def flask_env(database_url: str, **extra) -> dict:
    env = {**os.environ, "FLASK_APP": "best_app", "SECRET_KEY": "bench", "DATABASE_URL": database_url,
           "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env
