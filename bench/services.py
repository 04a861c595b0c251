"""A PostgreSQL database for a benchmark: a fresh one on TEST_DATABASE_URL's
server when that is set, else on a throwaway server started for the run."""
from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from tests.helpers import fresh_postgres_database

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


def fresh_database(server_url: str):
    return fresh_postgres_database(server_url, prefix="best_app_bench")


def flask_env(database_url: str, **extra) -> dict:
    env = {**os.environ, "FLASK_APP": "best_app", "SECRET_KEY": "bench", "DATABASE_URL": database_url,
           "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env
