"""The fault suite: the loopback stack (PostgreSQL, Redis, two waitress
replicas, nginx) with faults injected while requests flow.

Each module gets a stack of its own, since a fault may leave marks (a
replica out of rotation, an emptied cache) that the next module must not
inherit. Like tests/stack, these run only with STACK_TESTS=1 (the PostgreSQL
pass of `make test`); otherwise they are reported as skipped. Every load loop
is bounded in count and in time, and targets loopback only.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.loopback import ROOT, Stack, admin_token, request, skip_unless_stack_tests, wait_in_rotation  # noqa: F401  (re-exported)

REPLICAS = 2


def pytest_collection_modifyitems(config, items):
    skip_unless_stack_tests(items, Path(__file__).parent, "fault tests")


@pytest.fixture(scope="module")
def stack():
    with Stack(replicas=REPLICAS, threads=4) as running:
        yield running


@pytest.fixture(scope="module")
def auth(stack) -> dict:
    return admin_token(stack, "fault tests")


@dataclass
class Outcome:
    at: float
    method: str
    url: str
    status: int | str  # an int, or the repr of a connection error
    headers: dict = field(default_factory=dict)
    body: bytes = b""


class Load:
    """Background clients sending requests until stopped, a bounded number each.

    `make(i)` returns (method, url, headers, body) for a client's i-th request.
    Every outcome is kept, so a test can count failures by kind and time.
    """

    def __init__(self, make, clients: int = 4, max_requests: int = 5000, max_seconds: float = 60):
        self.make, self.clients = make, clients
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def _client(self, number: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        for i in range(self.max_requests):
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            method, url, headers, body = self.make(number * self.max_requests + i)
            try:
                reply = request(method, url, headers=headers, body=body, timeout=15)
                outcome = Outcome(time.monotonic(), method, url, reply.status, dict(reply.headers), reply.body)
            except OSError as error:
                outcome = Outcome(time.monotonic(), method, url, repr(error))
            with self._lock:
                self.outcomes.append(outcome)

    def __enter__(self) -> "Load":
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def statuses(self, since: float = 0.0) -> Counter:
        return Counter(o.status for o in self.outcomes if o.at >= since)
