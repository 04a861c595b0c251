"""What each process keeps beside the shared cache.

- ProcessGenerations: the generation counters of the in-process cache (the
  embedded default), kept outside it because it may evict any entry.
- LocalCopies: copies of recent hits from Redis, so a warm read costs no
  transfer and no decoding; best_app.caching keys them so that they are as
  fresh as Redis.
- Breaker: after a cache failure, skip the cache for a moment rather than
  wait for its timeout on every call.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, TypeVar

from flask import current_app

T = TypeVar("T")


def per_app(key: str, make: Callable[[], T]) -> T:
    """This app's one `key` object, made on first use (the hot path costs one dict read)."""
    found = current_app.extensions.get(key)
    if found is None:
        found = current_app.extensions.setdefault(key, make())
    return found


class ProcessGenerations:
    """Generations for the in-process cache, which may evict any entry when
    full: a counter evicted back to 0 would make old entries current again.
    These counters live outside it and are never evicted."""

    def __init__(self):
        self._values: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, namespace: str) -> int:
        return self._values.get(namespace, 0)

    def bump(self, namespace: str) -> None:
        with self._lock:
            self._values[namespace] = self._values.get(namespace, 0) + 1


class LocalCopies:
    """This process's copies of recent cache reads: bounded, expiring, thread-safe.

    They are as fresh as the shared cache because their keys carry the
    namespace's generation and the epoch, read from the shared cache on every
    request: a write on any replica bumps the generation, and the copies made
    under the old one are simply never asked for again.
    """

    def __init__(self, size: int = 512):  # a list page can be ~100 KB: bound the memory
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: str):
        entry = self.get_entry(key)
        return None if entry is None else entry[1]

    def get_entry(self, key: str) -> tuple[float, object] | None:
        """(when it expires on the monotonic clock, value), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def set(self, key: str, value, seconds: float) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class NoCopies:
    """The in-process cache is this process's already: copies of it add nothing."""

    def get(self, key: str):
        return None

    def get_entry(self, key: str):
        return None

    def set(self, key: str, value, seconds: float) -> None:
        pass


NO_COPIES = NoCopies()


class CacheUnavailable(RuntimeError):
    """The cache failed a moment ago: not tried again yet."""


class Breaker:
    """Skips the cache for `seconds` after a failure.

    A stopped or stalled Redis makes every call wait for the socket timeout
    (0.5 s): a request that checks a token and reads a resource would wait
    twice, and a write once per namespace. After one failure the calls in
    the next `seconds` fail at once instead, and the first call after them
    tries the cache again.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._open_until = float("-inf")

    def check(self) -> None:
        if self.is_open():
            raise CacheUnavailable("the cache failed less than a moment ago")

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def tripped(self) -> None:
        self._open_until = time.monotonic() + self.seconds
