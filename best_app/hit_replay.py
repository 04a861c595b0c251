"""Repeated cached API reads, answered before Flask's request handling.

A cached read that Flask serves from this process's local copies costs about
90 µs of CPU, and most of it is Flask's own work per request (contexts, URL
matching, hooks, the response object and its headers): the data itself is
already encoded. So a read that Flask answered entirely from local copies,
every cached look-up a HIT (the token check's included), is kept as the
response it sent (if its view says the response is made of those look-ups
alone): status, headers and body, with the generations, epoch and
era it was made under and the earliest expiry of the copies it used.

The same request again is answered with those bytes, by this WSGI
middleware, when what would let Flask serve the same copies holds at that
moment, checked the same way:
- the generation tracking is live and trusted, its pending pushes read first,
  and the generations of the namespaces used are unchanged (a write through
  any replica has bumped one: best_app.cache_tracking);
- the cache era is the same, known without asking the database (else the
  request goes to Flask, which reads it: best_app.cache_era);
- the cache has not failed in the last moment (the breaker is shut);
- no copy it was made from has expired.
Anything else, and any request not known here, goes to Flask as before, which
records it again. So a revoked token, a write on any replica, a Redis outage
or restart, and a new era stop replays exactly when they stop local hits.

"The same request" means the same method (GET only), path, query string,
Authorization header, Accept, If-None-Match, host, scheme and script root,
and no header that is not one of those or known to change nothing an API read
answers (User-Agent, Accept-Encoding, the X-Forwarded-* headers, whose effect
is the host and scheme that trusted proxies set). A request with any other
header (Cookie, X-Request-ID, ...) or a body always goes to Flask.
Only GET /api/ requests are replayed, only responses that their view says are
made of cached reads alone (made_of_cached_reads), and none that sets a cookie.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field, replace

from flask import Flask, request

NOTES = "best_app.replay_notes"

# Request headers that change nothing a cached API read answers. Anything else
# sends the request to Flask (the keyed ones are part of the key).
_KEYED_HEADERS = ("HTTP_HOST", "HTTP_ACCEPT", "HTTP_IF_NONE_MATCH", "HTTP_AUTHORIZATION")
_ALLOWED_HEADERS = frozenset({
    *_KEYED_HEADERS, "HTTP_USER_AGENT", "HTTP_ACCEPT_ENCODING", "HTTP_ACCEPT_LANGUAGE", "HTTP_CONNECTION",
    "HTTP_KEEP_ALIVE", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_X_REAL_IP",
})
_MAX_BODY = 256 * 1024
# What an entry costs beside its body and the strings of its key and headers (which the
# client chooses: a long query string is kept in both), counted against the bound.
_ENTRY_OVERHEAD = 1024


@dataclass
class ReplayNotes:
    """What a request's cached look-ups used, noted by best_app.caching.cached."""

    keys: dict[str, object] = field(default_factory=dict)  # generation key (the epoch's too) -> value
    era: int | None = None
    expires: float = float("inf")
    lookups: int = 0  # cached look-ups made
    hits: int = 0  # of which local hits, noted here
    spoiled: bool = False
    # Set by the view (made_of_cached_reads): the response is made of those look-ups and the
    # request's key alone. A view that also reads the database (the change feed, an export)
    # after a cached token check must never be replayed.
    whole: bool = False

    def hit(self, epoch_key: str, epoch, generation_key: str, generation, era: int, expires: float) -> None:
        self.hits += 1
        if self.era is not None and self.era != era:
            self.spoiled = True
        self.era = era
        for key, value in ((epoch_key, epoch), (generation_key, generation)):
            if self.keys.setdefault(key, value) != value:
                self.spoiled = True  # the request saw two values of one key: keep nothing
        self.expires = min(self.expires, expires)

    def usable(self) -> bool:
        return self.whole and not self.spoiled and self.hits == self.lookups > 0


@dataclass(frozen=True)
class Replay:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    keys: list[str]
    values: list
    era: int
    expires: float
    size: int = 0  # bytes counted against the bound (see HitReplay._keep)


class HitReplay:
    """WSGI middleware in front of the Flask app's own wsgi_app."""

    def __init__(self, app: Flask, wsgi_app, max_bytes: int = 32 * 1024 * 1024):
        self.app = app
        self.wsgi_app = wsgi_app
        self.prefix = "/api/"  # PATH_INFO, below any script root
        self.max_bytes = max_bytes
        self._replays: dict[tuple, Replay] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        replay = self._replays.get(key)
        if replay is not None and self._current(replay):
            start_response(replay.status, list(replay.headers))
            return [replay.body]
        return self._record(key, environ, start_response)

    # --- which requests, and whether a replay is still what Flask would send ---

    def _key(self, environ) -> tuple | None:
        if environ.get("REQUEST_METHOD") != "GET" or not environ.get("PATH_INFO", "").startswith(self.prefix):
            return None
        if environ.get("CONTENT_LENGTH") not in (None, "", "0") or not self._enabled():
            return None
        for name in environ:
            if name[:5] == "HTTP_" and name not in _ALLOWED_HEADERS:
                return None
        authorization = environ.get("HTTP_AUTHORIZATION")
        return (environ["PATH_INFO"], environ.get("QUERY_STRING", ""), environ.get("SCRIPT_NAME", ""),
                environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("HTTP_ACCEPT"),
                environ.get("HTTP_IF_NONE_MATCH"),
                # Kept by hash, as the token cache is: no secret stays in memory as a key.
                authorization and hashlib.sha256(authorization.encode("latin-1")).digest())

    def _enabled(self) -> bool:
        """Replays need pushed generations: without them nothing could be replayed, so keep nothing."""
        config = self.app.config
        return (config.get("CACHE_REPLAY", True) and config.get("CACHE_TYPE") == "RedisCache"
                and config.get("CACHE_TRACKING", True))

    def _current(self, replay: Replay) -> bool:
        """Whether Flask would serve this request from the same local copies now."""
        if time.monotonic() >= replay.expires:
            return False
        extensions = self.app.extensions
        tracking, clock = extensions.get("best_app_cache_tracking"), extensions.get("best_app_era_clock")
        breaker = extensions.get("best_app_cache_breaker")
        if tracking is None or clock is None or (breaker is not None and breaker.is_open()):
            return False
        if clock.known() != replay.era:
            return False
        try:
            values, _ticket = tracking.values(replay.keys)  # reads the pending pushes first
        except Exception:  # no connection to Redis: Flask's path reports and handles it
            return False
        return values == replay.values

    # --- keeping what Flask answered ------------------------------------------

    def _record(self, key: tuple, environ, start_response):
        notes = environ[NOTES] = ReplayNotes()
        sent = []

        def capture(status, headers, exc_info=None):
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        app_iter = self.wsgi_app(environ, capture)
        if not (notes.usable() and sent and sent[0][:3] in ("200", "304")):
            return app_iter
        status, headers = sent
        if any(name.lower() == "set-cookie" for name, _value in headers):
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        if len(body) <= _MAX_BODY:
            keys = list(notes.keys)
            self._keep(key, Replay(status, tuple(headers), body, keys, [notes.keys[k] for k in keys],
                                   notes.era, notes.expires))
        return [body]

    def _keep(self, key: tuple, replay: Replay) -> None:
        size = (_ENTRY_OVERHEAD + len(replay.body) + sum(len(part) for part in key if part)
                + sum(len(name) + len(value) for name, value in replay.headers))
        replay = replace(replay, size=size)
        with self._lock:
            old = self._replays.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._replays[key] = replay
            self._bytes += size
            while self._bytes > self.max_bytes:  # oldest first
                oldest = next(iter(self._replays))
                self._bytes -= self._replays.pop(oldest).size


def made_of_cached_reads() -> None:
    """Say that this request's response is made of its cached look-ups (and its key) alone."""
    notes = request.environ.get(NOTES)
    if notes is not None:
        notes.whole = True


def init_app(app: Flask) -> None:
    app.wsgi_app = HitReplay(app, app.wsgi_app, app.config.get("CACHE_REPLAY_BYTES", 32 * 1024 * 1024))
