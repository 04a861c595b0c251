"""Plain HTTP to servers the tests started on loopback: one request per
connection, no redirects followed, nothing decoded, so a test sees exactly
what nginx or a replica sent."""
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Stack  # noqa: E402,F401  (the runner the stack and fault tests share)


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



def wait_in_rotation(stack, timeout: float = 20) -> None:
    """Wait until nginx sends requests to every replica again (a replica that
    was stopped answers again once its server listens)."""
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


def skip_unless_stack_tests(items, folder: Path, what: str) -> None:
    """Mark the tests in `folder` skipped unless STACK_TESTS=1: they start real servers."""
    if os.environ.get("STACK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason=f"{what} need the loopback stack: run them with STACK_TESTS=1")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(folder):
            item.add_marker(skip)


def admin_token(stack, name: str) -> dict:
    """Authorization headers with a new token of the stack's admin."""
    stack.flask("ensure-admin")
    secret = stack.flask("tokens", "create", "--user", "admin", "--name", name).strip()
    return {"Authorization": f"Bearer {secret}"}
