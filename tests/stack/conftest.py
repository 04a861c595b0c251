"""The whole topology on loopback (scripts/stack.py): PostgreSQL, Redis, three
waitress replicas and nginx, started once for the session.

These tests start real servers and take about a minute, so they run only
when asked: `STACK_TESTS=1 pytest tests/stack` (CI does). Without it they are
reported as skipped, never silently passed.
"""
from __future__ import annotations

import http.client
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Stack  # noqa: E402

REPLICAS = 3


def pytest_collection_modifyitems(config, items):
    if os.environ.get("STACK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="stack tests need the loopback stack and docker-compose: run them with STACK_TESTS=1")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(skip)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def request(method: str, url: str, headers: dict | None = None, body: bytes | dict | None = None,
            timeout: float = 10) -> Reply:
    """One request on a fresh connection; no redirects followed, no decoding."""
    parts = urlsplit(url)
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


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


def wait_in_rotation(stack, timeout: float = 20) -> None:
    """Wait until nginx sends requests to every replica again: a replica that
    failed is skipped for fail_timeout (5 s) after it comes back."""
    wanted = {url.removeprefix("http://") for url in stack.replica_urls}
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = request("GET", f"{stack.url}/api/v1/health")
        if reply.status == 200:
            seen.add(reply.headers["X-Upstream"].split(", ")[-1])
        if seen >= wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"nginx did not use {sorted(wanted - seen)} again within {timeout} s")
