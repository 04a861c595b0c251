"""The whole topology on loopback (scripts/stack.py): PostgreSQL, Redis, three
waitress replicas and nginx, started once for the session.

These tests start real servers and take about a minute, so they run only
when asked: `STACK_TESTS=1 pytest tests/stack` (CI does). Without it they are
reported as skipped, never silently passed.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Stack  # noqa: E402

from tests.loopback import Reply, request, wait_in_rotation  # noqa: E402,F401  (re-exported for the tests here)

REPLICAS = 3


def pytest_collection_modifyitems(config, items):
    if os.environ.get("STACK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="stack tests need the loopback stack and docker-compose: run them with STACK_TESTS=1")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stack():
    with Stack(replicas=REPLICAS, threads=4) as running:
        yield running


@pytest.fixture(scope="session")
def token(stack) -> str:
    stack.flask("ensure-admin")
    return stack.flask("tokens", "create", "--user", "admin", "--name", "stack tests").strip()


@pytest.fixture(scope="session")
def auth(token) -> dict:
    return {"Authorization": f"Bearer {token}"}
