"""This process's copies of the generation counters, kept fresh by Redis itself.

A cached read must know the current generations (best_app.caching) and used to
ask Redis for them on every request: one round trip, most of a cached read's
time. Instead, each process holds one connection on which Redis's
server-assisted client-side caching (CLIENT TRACKING, broadcast mode, RESP2)
pushes the name of every `gen:` key that changes: an INCR by a write on any
replica, the epoch being set, a FLUSHALL, an eviction. Values read from Redis
are kept here until such a push drops them.

When a local value may be trusted:
- Pending pushes are read first, on the request's own thread, without waiting
  (`values`): a thread in the background could still be behind. A writer
  sends one PING after its INCRs (best_app.caching.invalidate), and Redis
  writes every reply and push of one pass of its event loop before it reads
  the next command; so once the PING is answered, the push has been written
  to every process's tracking connection, before the writer answers its
  client. When that client's next request reaches this replica, the push is
  in this socket's buffer, on loopback or a LAN: that ordering is the
  assumption that gives read-your-writes across replicas.
- A value read from Redis is kept only if no push about its key was read
  between asking and keeping (the ticket), else a push that overtook the
  reply would leave an old value behind for good.
- Redis must have answered a PING sent on this connection less than
  TRUST_SECONDS ago (below the cache's socket timeout): pushes come in order
  with the PONG, so nothing written before that PING was missed. A stalled
  Redis, or a link that died without a word, then stops local answers before
  a write that timed out on it (and started a new cache era) can have
  answered its client.
- If the connection fails or closes (Redis restarted, outage), every local
  value is dropped, the era is re-read before the cache is trusted again, and
  reads make round trips until a new connection is subscribed.

No thread is needed: a request drains the socket before trusting anything (first
asking, without letting go of the GIL, whether anything is waiting: best_app.socket_peek), and
sends the next PING when the last answer is getting old. While the process is
idle the pushes wait in the socket; should Redis give up on a reader that slow,
the closed connection drops everything, as above.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import redis
from redis.connection import parse_url

from flask import current_app

from best_app.cache_era import era_clock
from best_app.cache_local import per_app
from best_app.extensions import cache
from best_app.socket_peek import always, waiting

log = logging.getLogger(__name__)

CHANNEL = b"__redis__:invalidate"
UNKNOWN = object()


class Tracking:
    """Generation values that Redis invalidates by push; thread-safe."""

    def __init__(self, url: str, key_prefix: str, tracked: str, socket_timeout: float, retry_seconds: float,
                 trust_seconds: float, on_lost: Callable[[], None]):
        """Track the keys starting with `tracked`, stored in Redis under `key_prefix`.
        `on_lost` is called when the connection is lost, from any thread, with or without
        an app context (replays check tracking before Flask makes one)."""
        self._on_lost = on_lost
        self._url, self._key_prefix, self._tracked = url, key_prefix.encode(), (key_prefix + tracked).encode()
        self._socket_timeout = socket_timeout
        self._retry_seconds = retry_seconds
        self.trust_seconds = trust_seconds
        self._lock = threading.Lock()
        self._connection = None
        self._fd, self._drain_all = -1, True
        self._retry_at = float("-inf")
        self._values: dict[str, object] = {}
        self._seq = 0  # pushes read so far
        self._dropped_at: dict[str, int] = {}  # key -> seq of the last push about it
        self._flushed_at = 0
        self._ping_sent: float | None = None
        self._confirmed = float("-inf")  # when the newest answered PING was sent
        self.enabled = True

    def values(self, keys: list[str]) -> tuple[list | None, int | None]:
        """(values, None) when every key is known here and may be trusted;
        else (None, ticket): read them from Redis and `keep` them with the
        ticket, which is None when this process has no live tracking.
        Raises when Redis could not be reached, as a round trip would."""
        with self._lock:
            if not self._live():
                return None, None
            now = time.monotonic()
            if self._ping_sent is None and now - self._confirmed > self.trust_seconds / 2:
                self._ping(now)
            if now - self._confirmed >= self.trust_seconds:
                return None, None  # not shown alive lately: what is kept here is not trusted
            found = [self._values.get(key, UNKNOWN) for key in keys]
            if any(value is UNKNOWN for value in found):
                return None, self._seq
            return found, None

    def keep(self, ticket: int | None, keys: list[str], values: list) -> None:
        """Keep values read from Redis after `values` gave `ticket`."""
        if ticket is None:
            return
        with self._lock:
            if not self._live() or ticket < self._flushed_at:
                return
            for key, value in zip(keys, values):
                if self._dropped_at.get(key, 0) <= ticket:
                    self._values[key] = value

    # --- the connection, under the lock ---------------------------------------

    def _live(self) -> bool:
        """Whether the subscribed connection is up, with every push already sent read;
        raises if connecting failed."""
        if self._connection is None and not self._connect():
            return False
        try:
            if self._drain_all or waiting(self._fd):
                self._drain()
                self._drain_all = False  # redis-py's own buffer is empty too now
        except Exception:
            log.warning("cache invalidation connection lost; reading generations from Redis until it is back",
                        exc_info=True)
            self._lost()
            return False
        return True

    def _drain(self) -> None:
        """Read every push waiting, in redis-py's buffer or on the socket.

        After each one, both are asked without a system call: redis-py's
        can_read(timeout=0) polls the socket, letting go of the GIL, and after a
        write on any replica every request has pushes to read.
        """
        connection = self._connection
        if self._drain_all or waiting is always or _unread(connection) is None:
            while connection.can_read(timeout=0):
                self._handle(connection.read_response())
            return
        while True:  # something is waiting (bytes, or the end of the stream, which raises)
            self._handle(connection.read_response())
            if not _unread(connection) and not waiting(self._fd):
                return

    def _handle(self, message) -> None:
        kind = message[0]
        if kind == b"message" and message[1] == CHANNEL:
            self._seq += 1
            if message[2] is None:  # FLUSHALL / FLUSHDB: every key changed
                self._values.clear()
                self._flushed_at = self._seq
                return
            for raw in message[2]:
                key = raw[len(self._key_prefix):].decode()
                self._values.pop(key, None)
                self._dropped_at[key] = self._seq
        elif kind == b"pong":
            self._confirmed, self._ping_sent = self._ping_sent, None
        elif kind == b"message" and message[1] == b"tracking-redir-broken":
            raise ConnectionError("tracking redirection broken")

    def _ping(self, now: float) -> None:
        try:
            self._connection.send_command("PING")
        except Exception:
            log.warning("cache invalidation connection lost", exc_info=True)
            self._lost()
            return
        self._ping_sent = now

    def _connect(self) -> bool:
        if not self.enabled or time.monotonic() < self._retry_at:
            return False
        options = parse_url(self._url)
        connection_class = options.pop("connection_class", redis.Connection)
        connection = connection_class(**options, protocol=2, socket_timeout=self._socket_timeout,
                                      socket_connect_timeout=self._socket_timeout)
        try:
            connection.connect()
            connection.send_command("CLIENT", "ID")
            client_id = connection.read_response()
            # Broadcast mode: told of every change under the prefix, whichever
            # connection read it, so the connections that read need no set-up.
            connection.send_command("CLIENT", "TRACKING", "on", "REDIRECT", client_id, "BCAST",
                                    "PREFIX", self._tracked)
            connection.read_response()
            sent = time.monotonic()
            connection.send_command("SUBSCRIBE", CHANNEL)
            connection.read_response()
        except redis.ResponseError:
            log.warning("Redis does not support CLIENT TRACKING: every cached read asks it for the "
                        "generations", exc_info=True)
            self.enabled = False
            connection.disconnect()
            return False
        except Exception:
            # A failed round trip like any other: the caller bypasses the cache for a moment.
            self._retry_at = time.monotonic() + self._retry_seconds
            connection.disconnect()
            raise
        self._connection, self._confirmed, self._ping_sent = connection, sent, None
        self._fd, self._drain_all = connection._sock.fileno(), True
        self._values.clear()  # nothing read before this connection is trusted, nor kept
        self._flushed_at = self._seq = self._seq + 1
        return True

    def _lost(self) -> None:
        self._values.clear()
        self._flushed_at = self._seq = self._seq + 1
        self._confirmed, self._ping_sent = float("-inf"), None
        self._retry_at = time.monotonic() + self._retry_seconds
        if self._connection is not None:
            self._connection.disconnect()
            self._connection = None
        # Writes made while it was down may have started a new cache era.
        self._on_lost()


def _unread(connection) -> bool | None:
    """Whether redis-py's parser holds bytes already read from the socket, or None where
    its parser cannot be asked without reading (a parser other than redis-py's own)."""
    unread_bytes = getattr(getattr(connection._parser, "_buffer", None), "unread_bytes", None)
    return None if unread_bytes is None else unread_bytes() > 0


def generation_tracking() -> Tracking | None:
    """This process's Tracking, or None when off (CACHE_TRACKING) or the cache is not Redis."""
    config = current_app.config
    if config.get("CACHE_TYPE") != "RedisCache" or not config.get("CACHE_TRACKING", True):
        return None
    return per_app("best_app_cache_tracking", lambda: Tracking(
        config["CACHE_REDIS_URL"], cache.cache._get_prefix(), "gen:",
        socket_timeout=config.get("CACHE_OPTIONS", {}).get("socket_timeout", 0.5),
        retry_seconds=config.get("CACHE_RETRY_SECONDS", 1.0),
        trust_seconds=config.get("CACHE_TRACKING_TRUST_SECONDS", 0.25),
        on_lost=era_clock().cache_failed))
