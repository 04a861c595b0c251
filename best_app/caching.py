"""Every cache key best_app uses, the cached reads, and their invalidation.

Reads of a resource are cached under that resource's *generation*: a counter
in the cache that every committed write to the resource increments (one
INCR), which orphans all older entries at once, on every replica, without
deleting keys by pattern. Writes need not remember to invalidate: the session
hooks at the bottom bump the generations of the tables a transaction touched
right after it commits, whichever path (API, admin pages, CLI) made it.

A cache outage never fails a request: it is logged and the caller falls back
to the database, reporting BYPASS. Nor does it leave stale data behind: a
write whose invalidation fails starts a new cache era (best_app.cache_era),
which every key carries, so no replica serves an entry older than that write
once the cache is back.

On the embedded default the cache is this process's own (SimpleCache). Its
generations then live in a plain counter outside it (the cache may evict any
entry when full), entries are kept for PROCESS_CACHE_SECONDS at most (a
`flask` command writing from another process cannot bump this process's
generations), and token checks are not cached at all, so that `flask tokens
revoke` takes effect at once.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any, Callable

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from best_app.cache_era import CacheUntrusted, era_clock
from best_app.cache_local import (NO_COPIES, Breaker, CacheUnavailable, LocalCopies, ProcessGenerations,
                                  per_app)
from best_app.cache_thread import thread_call, thread_pipeline, thread_send
from best_app.cache_tracking import generation_tracking
from best_app.extensions import cache, db
from best_app.hit_replay import NOTES as REPLAY_NOTES
from best_app.models import ApiToken

log = logging.getLogger(__name__)

HIT, MISS, BYPASS = "HIT", "MISS", "BYPASS"

# Each table is a namespace, and a committed write to a table invalidates it
# and every table that references it, directly or not (see _affected).
SKIP_INVALIDATION = "best_app_skip_cache_invalidation"


def _generation_key(namespace: str) -> str:
    return f"gen:{namespace}"


_GENERATIONS = "best_app.cache_generations"
# A random value stored once in the shared cache: if the cache is flushed or
# restarts empty, generations start again from 0, and a new epoch keeps each
# replica's local copies of the old era's entries from ever matching again.
_EPOCH_KEY = "gen:epoch"


def _shared() -> bool:
    """Whether the cache is shared by every process (Redis), not this process's own."""
    return current_app.config.get("CACHE_TYPE") == "RedisCache"


def _process_generations() -> ProcessGenerations:
    return per_app("best_app_generations", ProcessGenerations)


def _breaker() -> Breaker:
    return per_app("best_app_cache_breaker", lambda: Breaker(current_app.config.get("CACHE_RETRY_SECONDS", 1.0)))


def _failed(error: Exception | None = None) -> None:
    """Note a failed round trip to the shared cache."""
    if isinstance(error, (CacheUntrusted, CacheUnavailable)):
        return  # not a round trip: nothing new was learnt about the cache
    _breaker().tripped()
    era_clock().cache_failed()


def _generations(namespace: str | None = None) -> dict:
    """The epoch, the era and the generations, memoised for the request in its environ (never
    shared); `namespace`'s is always among them.

    With pushed generations, only the epoch and `namespace`'s generation are asked of the
    local copies: a write bumps its own tables' generations (and drops them here), and the
    next request's token check needs only the tokens' one, which is still known. Whenever a
    round trip is needed, one MGET fetches the epoch and every namespace's generation, so a
    request that checks its token and then reads a resource pays one round trip for both.
    """
    memo = request.environ.get(_GENERATIONS) if has_request_context() else None
    if memo is not None and (namespace is None or namespace in memo):
        return memo
    if not _shared():
        local = _process_generations()
        return {"epoch": "process", "era": 0, **{ns: local.get(ns) for ns in _generation_keys()[0]}}
    _breaker().check()
    namespaces, keys = _generation_keys()
    tracking = generation_tracking()
    fresh, ticket = None, None
    if tracking:
        if namespace in _affected():  # a table's namespace (_affected is keyed by every one)
            values, _ticket = tracking.values([_EPOCH_KEY, _generation_key(namespace)])
            if values is not None and (memo is None or values[0] == memo["epoch"]):
                fresh = {"epoch": values[0], namespace: values[1]}
        if fresh is None:
            values, ticket = tracking.values(keys)
            if values is not None:
                fresh = {"epoch": values[0], **dict(zip(namespaces, values[1:]))}
    if fresh is None:
        values = _get_many(*keys)
        if tracking:
            tracking.keep(ticket, keys, values)
        fresh = {"epoch": values[0], **dict(zip(namespaces, values[1:]))}
    if fresh["epoch"] is None:
        cache.add(_EPOCH_KEY, uuid.uuid4().hex, timeout=0)
        fresh["epoch"] = cache.get(_EPOCH_KEY)
    memo = {**(memo or {}), **fresh}
    # Read only once the round trip above (if any) has succeeded: after an outage,
    # the era must be the one recorded by writes made during it.
    memo["era"] = era_clock().current()
    if has_request_context():
        request.environ[_GENERATIONS] = memo
    return memo


def _all_namespaces() -> list[str]:
    return sorted(_affected())


def _generation_keys() -> tuple[list[str], list[str]]:
    """Every namespace, and the keys one read of the generations asks for (the epoch's first)."""
    found = _KEYS.get("all")
    if found is None:
        namespaces = _all_namespaces()
        found = _KEYS.setdefault("all", (namespaces, [_EPOCH_KEY, *map(_generation_key, namespaces)]))
    return found


_KEYS: dict[str, tuple[list[str], list[str]]] = {}


_AFFECTED: dict[str, frozenset[str]] = {}


def _affected() -> dict[str, frozenset[str]]:
    """Table -> the namespaces a committed write to it may change, from the schema.

    A table's cached reads depend on every table it references: ON DELETE
    CASCADE or SET NULL changes its rows in the database, where the ORM does
    not see it; its lists scoped to a parent row exist only while that row
    does; and what it caches may carry the parent's columns (a token check
    carries its user's admin flag). So a write invalidates its own table and
    every table that references it, transitively.

    The other way round, one step: a parent's lists can be filtered by whether
    rows of a child refer to them (users with or without cars), so a write to a
    child also invalidates the tables it references directly. Nothing here
    names a table: a new model is covered by declaring its foreign keys.
    """
    if not _AFFECTED:
        tables = db.metadata.sorted_tables
        referrers = {table.name: {table.name} for table in tables}
        parents = {table.name: {key.column.table.name for key in table.foreign_keys} for table in tables}
        for table in tables:
            for key in table.foreign_keys:
                referrers[key.column.table.name].add(table.name)
        closure = {}
        for name in referrers:
            seen, todo = set(), [name]
            while todo:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    todo.extend(referrers[current] - seen)
            closure[name] = frozenset(seen | parents[name])
        _AFFECTED.update(closure)
    return _AFFECTED


def _get_many(*keys: str) -> list:
    """cache.get_many, on Redis through this thread's own connection (see thread_call)."""
    if current_app.config.get("CACHE_TYPE") != "RedisCache":
        return cache.get_many(*keys)
    backend = cache.cache  # cachelib's RedisCache: its key prefix and serializer
    prefix = backend._get_prefix()
    return [backend.serializer.loads(value) for value in thread_call("MGET", *[prefix + key for key in keys])]


# A cached read's GET and SET, as cachelib's RedisCache does them (its key prefix, its
# serializer, its timeouts: none means its default, 0 means none), but on this thread's
# own connection: cachelib's client takes one from the shared pool and probes it first,
# which lets go of the GIL for nothing on every command (best_app.cache_thread). The SET
# is not answered, so nothing waits for it.

def _shared_get(key: str):
    backend = cache.cache
    return backend.serializer.loads(thread_call("GET", backend._get_prefix() + key))


def _shared_set(key: str, value, timeout: int | None) -> None:
    backend = cache.cache
    seconds = backend._normalize_timeout(timeout)  # -1: no expiry
    expiry = () if seconds == -1 else ("EX", seconds)
    thread_send("SET", backend._get_prefix() + key, backend.serializer.dumps(value), *expiry)


def _generation(namespace: str) -> int:
    memo = _generations()
    if namespace not in memo:
        return int(cache.get(_generation_key(namespace)) or 0)
    return int(memo[namespace] or 0)



def cached(namespace: str, key: str, load: Callable[[], Any], timeout: int | None = None,
           prepare: Callable[[Any], Any] | None = None) -> tuple[Any, str]:
    """`load()`'s result, cached under the namespace's current generation.

    Returns (value, status) with status HIT, MISS or BYPASS. `load` must
    return plain data (dicts, lists, str, numbers), never ORM objects, and
    never None (None means "not cached"). `prepare`, when given, turns that
    data into what the caller serves (an encoded response body, say): this
    process keeps the prepared form, so a local hit repeats none of that
    work, and the value returned is always prepared. A HIT may be an object
    shared with other requests: read it, never modify it.
    """
    # Every lookup through current_app costs a little: a hit makes few of them.
    config = current_app.config
    shared = config.get("CACHE_TYPE") == "RedisCache"
    seconds = timeout or config.get("CACHE_DEFAULT_TIMEOUT", 300)
    if not shared:
        # Writes by other processes (a `flask` command beside the server)
        # cannot bump this process's generations: keep entries briefly.
        seconds = timeout = min(seconds, config.get("PROCESS_CACHE_SECONDS", 10))
    prepare = prepare or _as_is
    copies = per_app("best_app_local_cache", LocalCopies) if shared else NO_COPIES
    # What this request used, when it may be replayed (best_app.hit_replay): only
    # a request whose every look-up is a local hit is.
    notes = request.environ.get(REPLAY_NOTES) if has_request_context() else None
    if notes is not None:
        notes.lookups += 1
    try:
        generations = _generations(namespace)
        generation = int(generations[namespace] or 0) if namespace in generations else _generation(namespace)
        full_key = f"{generations['era']}:{namespace}:{generation}:{key}"
        local_key = f"{generations['epoch']}:{full_key}"
        entry = copies.get_entry(local_key)
        if entry is not None:
            if notes is not None and namespace in generations:
                notes.hit(_EPOCH_KEY, generations["epoch"], _generation_key(namespace), generations[namespace],
                          generations["era"], entry[0])
            return entry[1], HIT
        value = _shared_get(full_key) if shared else cache.get(full_key)
    except Exception as error:  # any backend failure: serve from the database
        if shared:
            _failed(error)
        if isinstance(error, CacheUntrusted):  # the database is down too, most likely: say so briefly
            log.warning("cache not trusted for %s (%s); serving from the database", namespace, error)
        elif not isinstance(error, CacheUnavailable):  # logged once per failure, not per request
            log.warning("cache read failed for %s; serving from the database", namespace, exc_info=True)
        value = load()
        return (None if value is None else prepare(value)), BYPASS
    status = HIT
    if value is None:
        status, value = MISS, load()
        if value is None:
            return None, MISS
        try:
            if shared:
                _shared_set(full_key, value, timeout)
            else:
                cache.set(full_key, value, timeout=timeout)
        except Exception as error:
            _failed(error)
            log.warning("cache write failed for %s", namespace, exc_info=True)
    # Kept under the generation read before `load` ran: a write committed
    # meanwhile bumps the generation, so the copy is never asked for again.
    value = prepare(value)
    copies.set(local_key, value, seconds)
    return value, status


def _as_is(value):
    return value


def invalidate(*namespaces: str) -> None:
    """Orphan every cached read of these namespaces."""
    try:
        if _shared():
            _breaker().check()
            _increment_generations(namespaces)
            if namespaces and generation_tracking():
                # Redis sends every push of a pass before it reads the next command: once
                # this is answered, every replica's invalidation connection holds them.
                thread_call("PING")
        else:
            for namespace in namespaces:
                _process_generations().bump(namespace)
    except Exception as error:
        _failed(error)
        log.error("cache invalidation failed (or not confirmed) for %s", ", ".join(namespaces),
                  exc_info=not isinstance(error, CacheUnavailable))
        # A new era orphans every entry, on every replica: the generations
        # that may not have been bumped need not wait for the cache's timeout.
        era_clock().invalidation_failed()
    if has_request_context():
        request.environ.pop(_GENERATIONS, None)  # later reads in this request see the new generations


def _increment_generations(namespaces) -> None:
    """One atomic INCR per namespace (shared by every replica, no expiry), sent
    to Redis together in one round trip: a write to a table bumps the tables
    that reference it too, and each round trip is a wait. cachelib has an INCR
    of one key only, so this uses its key prefix directly; a test
    (test_a_write_bumps_every_generation_it_affects_in_redis) fails if it stops
    being there."""
    prefix = cache.cache._get_prefix()
    thread_pipeline([("INCR", prefix + _generation_key(namespace)) for namespace in namespaces])


def invalidate_tables(*tables: str) -> None:
    affected = _affected()
    namespaces = {ns for table in tables for ns in affected.get(table, (table,))}
    invalidate(*sorted(namespaces))


def cached_token(token_hash: str, load: Callable[[], Any]) -> Any:
    """Token hash -> plain token facts, kept briefly so a warm token costs no query."""
    if not _shared():
        # `flask tokens revoke` runs in another process and could not reach
        # this process's cache: check the database every time.
        return load()
    seconds = current_app.config.get("TOKEN_CACHE_SECONDS", 60)
    value, _status = cached(ApiToken.__tablename__, token_hash, load, timeout=seconds)
    return value


def count_visit(counter: str = "dashboard") -> int | None:
    """Increment and return a visit counter, or None when the cache is down."""
    key = f"visits:{counter}"
    try:
        value = cache.cache.inc(key) if _shared() else None
        if value is None:
            value = int(cache.get(key) or 0) + 1
            cache.set(key, value, timeout=0)
        return int(value)
    except Exception:
        log.warning("visit counter unavailable", exc_info=True)
        return None


def ping() -> bool:
    """Whether the cache answers a write and a read."""
    try:
        cache.set("health:ping", "pong", timeout=10)
        return cache.get("health:ping") == "pong"
    except Exception:
        log.warning("cache health check failed", exc_info=True)
        return False


# --- invalidation on commit -------------------------------------------------

_TOUCHED = "best_app_touched_tables"


def _touched(session: Session) -> set:
    return session.info.setdefault(_TOUCHED, set())


@event.listens_for(Session, "after_flush")
def _collect_flushed(session, flush_context):
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table:
            _touched(session).add(table)


@event.listens_for(Session, "do_orm_execute")
def _collect_bulk(state):
    # Bulk INSERT/UPDATE/DELETE statements skip the flush.
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if state.execution_options.get(SKIP_INVALIDATION):
        return
    table = getattr(state.statement, "table", None)
    if table is not None:
        _touched(state.session).add(table.name)


@event.listens_for(Session, "after_commit")
def _invalidate_committed(session):
    tables = session.info.pop(_TOUCHED, None)
    if tables:
        invalidate_tables(*tables)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction):
    session.info.pop(_TOUCHED, None)
