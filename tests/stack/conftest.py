"""The whole topology on loopback (scripts/stack.py): PostgreSQL, Redis, three
waitress replicas and nginx, started once for the session.

These tests start real servers and take about a minute, so they run only
when asked: `STACK_TESTS=1 pytest tests/stack` (CI does). Without it they are
reported as skipped, never silently passed.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.loopback import ROOT, Stack, admin_token, request, skip_unless_stack_tests, wait_in_rotation  # noqa: F401  (re-exported)

REPLICAS = 3


def pytest_collection_modifyitems(config, items):
    skip_unless_stack_tests(items, Path(__file__).parent, "stack tests (and the docker-compose checks)")


@pytest.fixture(scope="session")
def stack():
    with Stack(replicas=REPLICAS, threads=4) as running:
        yield running


@pytest.fixture(scope="session")
def auth(stack) -> dict:
    return admin_token(stack, "stack tests")
