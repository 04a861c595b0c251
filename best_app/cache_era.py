"""The shared cache's era: how writes that could not reach the cache still orphan it.

Cached reads are kept fresh by generation counters in Redis (best_app.caching):
each committed write INCRs its tables' generations. When Redis is down, paused
or too slow, that INCR fails, and the entries the write made stale are still
in Redis (and in each replica's local copies) when it comes back. Logging the
failure is not enough: the stale entries would be served until they expire.

So the writer records the failure where it still can, in the database: it
increments the one row of `cache_era` in a small transaction of its own.
Every cache key carries the era, so a new era orphans every entry made before
it, on every replica and in Redis alike. A `flask` command that revokes a token
while Redis is down does the same before it exits; nobody has to remember to
clear anything.

Each process re-reads the era from the database:
- at most CACHE_ERA_POLL_SECONDS after it last did (default 0.5 s), so an idle
  replica always checks before its first cached read, and a busy one within
  that bound;
- on its first successful cache round trip after a cache failure of its own, so
  a replica whose reads failed during an outage learns about the writes made
  meanwhile before it trusts the cache again;
- and a process that could not record its failure (the database unreachable
  too) trusts no cache entry at all until it has.
Writes are rare next to reads, and an era changes only when a write and a cache
failure meet, so this costs one tiny query per replica per poll interval.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from best_app.cache_local import per_app
from best_app.extensions import db
from best_app.models.cache_era import ERA_ROW_ID, CacheEra

log = logging.getLogger(__name__)


class CacheUntrusted(RuntimeError):
    """The cache may hold entries made stale by an unrecorded write: do not use it."""


class EraClock:
    """This process's view of the cache era."""

    def __init__(self, poll_seconds: float):
        self.poll_seconds = poll_seconds
        self._era: int | None = None
        self._read_at = float("-inf")
        self._recheck = True  # read before first use
        self._failures = 0  # cache failures seen, so a read that raced one does not count as after it
        self._unrecorded = False  # a failed invalidation the database does not know of yet
        self._lock = threading.Lock()

    def current(self) -> int:
        """The era to key cache entries with; raises CacheUntrusted when there is none to trust."""
        era = self.known()
        if era is not None:
            return era
        with self._lock:
            if self._unrecorded:
                self._record()
            if self._recheck or time.monotonic() - self._read_at >= self.poll_seconds:
                self._read()
            return self._era

    def known(self) -> int | None:
        """The era current() would give without asking the database, or None if it would ask."""
        if not self._recheck and time.monotonic() - self._read_at < self.poll_seconds:
            return self._era
        return None

    def cache_failed(self) -> None:
        """A cache round trip failed: read the era again before trusting the cache."""
        self._failures += 1
        self._recheck = True

    def invalidation_failed(self) -> None:
        """A write could not orphan its cache entries: start a new era for everyone."""
        with self._lock:
            self._recheck = True
            self._unrecorded = True
            try:
                self._record()
            except CacheUntrusted:
                pass  # logged; every cached read in this process bypasses until it is recorded

    def _read(self) -> None:
        failures = self._failures
        try:
            with db.engine.connect() as connection:
                era = connection.scalar(select(CacheEra.era).where(CacheEra.id == ERA_ROW_ID))
        except Exception as error:
            raise CacheUntrusted("cannot read the cache era from the database") from error
        self._era = era or 0
        self._read_at = time.monotonic()
        self._recheck = self._failures != failures

    def _record(self) -> None:
        try:
            with db.engine.begin() as connection:
                bumped = connection.execute(
                    update(CacheEra).where(CacheEra.id == ERA_ROW_ID).values(era=CacheEra.era + 1))
                if bumped.rowcount == 0:  # a database made by create_all rather than the migrations
                    try:
                        with connection.begin_nested():
                            connection.execute(CacheEra.__table__.insert().values(id=ERA_ROW_ID, era=1))
                    except IntegrityError:  # another process inserted it first
                        connection.execute(
                            update(CacheEra).where(CacheEra.id == ERA_ROW_ID).values(era=CacheEra.era + 1))
        except Exception as error:
            log.error("cache invalidation failed and the new cache era could not be recorded: this "
                      "process serves no cached data until it can", exc_info=True)
            raise CacheUntrusted("cannot record a new cache era") from error
        log.warning("cache invalidation failed; started a new cache era so that no replica serves "
                    "entries older than this write")
        self._unrecorded = False
        self._recheck = True


def era_clock() -> EraClock:
    return per_app("best_app_era_clock", lambda: EraClock(current_app.config.get("CACHE_ERA_POLL_SECONDS", 0.5)))
