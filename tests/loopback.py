"""Plain HTTP to servers the tests started on loopback: one request per
connection, no redirects followed, nothing decoded, so a test sees exactly
what nginx or a replica sent."""
from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


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
