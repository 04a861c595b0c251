"""This thread's own connection to the shared cache, and the commands sent on it.

Cached reads, their writes and a write's INCRs run on a connection kept per
waitress thread (thread_client), not one taken from redis-py's pool, which
probes a connection before lending it. Commands are written to it with
best_app.socket_peek.send_now, which keeps the GIL: under waitress's threads,
each system call that lets the GIL go can cost a wait for another thread to
give it back, and a command's send never needs to wait.

A cache entry's SET is sent behind CLIENT REPLY SKIP (`thread_send`): Redis
answers neither, so the request waits for no reply, and a list page that
misses the cache makes one wait for Redis, not two. Nothing is left pending
on the connection, and a SET that fails is a cache entry missing, which the
next read finds and makes again. Each connection first checks that the
server honours CLIENT REPLY SKIP (a proxy or an ACL may refuse it); where it
does not, the SET's reply is waited for, as any other.

A connection can have been broken since this thread last used it (Redis
restarted meanwhile). Before each send the socket is checked, without a round
trip, for the server's goodbye; then, and when a send or a reply fails on a
broken connection, the command is sent once more on a new connection. That
is no cache failure: reporting it would open the breaker, and a write in the
next second would skip its INCR.
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
from typing import Callable

import redis

from best_app.cache_local import per_app
from best_app.extensions import cache
from best_app.socket_peek import always, send_now, waiting

log = logging.getLogger(__name__)
_warned = threading.Event()  # what costs a wait or a connection is reported once per process


def thread_client() -> redis.Redis:
    """This thread's own client on the cache's connection pool.

    Taking a connection from the shared pool probes it first (three system
    calls), and each system call lets another of the server's threads take
    the GIL, to be waited for: that was half the cost of a round trip.
    A connection per thread needs no probe.
    """
    threads = per_app("best_app_redis_threads", threading.local)
    client = getattr(threads, "client", None)
    if client is None:
        client = threads.client = redis.Redis(connection_pool=cache.cache._read_client.connection_pool,
                                              single_connection_client=True)
    return client


def thread_call(*command):
    """One command on this thread's connection, and Redis's reply as sent (bytes, a
    number, a list), without redis-py's conversions."""
    return _retried(lambda connection: _exchange(connection, [command])[0])


def thread_pipeline(commands: list[tuple]) -> list:
    """Send `commands` in one write on this thread's connection and read their replies.

    A pipeline without redis-py's Pipeline object, whose bookkeeping (a command
    stack, response callbacks, its own retry wrapper) took more CPU than the
    round trip on every write. Every reply is read before an error reply is
    raised, so the connection is left with none pending (a repeated INCR of a
    generation, when sent again, is harmless: any increase orphans the entries).
    """
    return _retried(lambda connection: _exchange(connection, commands))


def thread_send(*command) -> None:
    """Send one command whose reply nobody needs (a cache entry's SET), without waiting
    for it: Redis sends none (CLIENT REPLY SKIP), even for an error. Where the server (or a
    proxy, or an ACL) refuses that, the reply is waited for as usual."""
    def send(connection) -> None:
        if _replies_skipped(connection):
            _send(connection, [SKIP_REPLY, command])
        else:
            _exchange(connection, [command])
    _retried(send)


SKIP_REPLY = ("CLIENT", "REPLY", "SKIP")
_PROBE = b"best_app:reply-skip-probe"


def _replies_skipped(connection) -> bool:
    """Whether this connection's server honours SKIP_REPLY; asked once per connection.

    A reply skipped where the server sent one after all would be read by the next command
    as its own. So the question is asked with a PING and an ECHO behind it: honoured, only
    the ECHO is answered; refused, the refusal and the PING's PONG come first.
    """
    threads = per_app("best_app_redis_threads", threading.local)
    if connection._sock is None:
        connection.connect()
    known = getattr(threads, "reply_skip", None)
    if known is not None and known[0] is connection._sock:
        return known[1]
    _send(connection, [SKIP_REPLY, ("PING",), ("ECHO", _PROBE)])
    before = 0
    while True:
        try:
            reply = connection.read_response()
        except redis.ResponseError:
            reply = None
        if reply == _PROBE:
            break
        before += 1
        if before > 2:
            raise redis.ConnectionError("unexpected replies from the cache to a PING and an ECHO")
    honoured = before == 0
    if not honoured and not _warned.is_set():
        _warned.set()
        log.warning("the cache refuses CLIENT REPLY SKIP: each cache entry's SET waits for its reply")
    threads.reply_skip = (connection._sock, honoured)
    return honoured


def _retried(exchange: Callable):
    connection = thread_client().connection
    try:
        return exchange(connection)
    except redis.ConnectionError:
        connection.disconnect()
        return exchange(connection)


def _exchange(connection, commands: list[tuple]) -> list:
    _send(connection, commands)
    replies, refused = [], None
    for _command in commands:
        try:
            replies.append(connection.read_response())
        except redis.ResponseError as error:  # an error reply; the others are still to be read
            refused = refused or error
    if refused is not None:
        raise refused
    return replies


def _send(connection, commands: list[tuple]) -> None:
    if connection._sock is None:
        connection.connect()
    data = b"".join(connection.pack_commands(commands))
    sock = connection._sock
    try:
        if isinstance(sock, ssl.SSLSocket):  # bytes on the socket are TLS records: the usual way
            sock.sendall(data)
            return
        # Every reply is always read (and the connection speaks RESP2, which pushes nothing
        # unasked: config.py), so anything waiting is the server's goodbye.
        if waiting is not always and waiting(sock.fileno()):
            _unexpected(connection)
            raise ConnectionResetError("the server closed the connection, or sent something unasked")
        sent = send_now(sock.fileno(), data)
        if sent < len(data):  # the socket's buffer is full: wait for room, as usual
            sock.sendall(data[sent:])
    except socket.timeout as error:
        connection.disconnect()
        raise redis.TimeoutError("timed out sending to the cache") from error
    except OSError as error:
        connection.disconnect()
        raise redis.ConnectionError(f"cannot send to the cache: {error}") from error


def _unexpected(connection) -> None:
    """Say once if what was waiting is not the end of the stream: a server or proxy that
    refuses CLIENT REPLY SKIP, or pushes, costs a new connection each time it happens."""
    if _warned.is_set():
        return
    try:
        peeked = connection._sock.recv(64, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:
        return
    if peeked:
        _warned.set()
        log.warning("Redis sent %r unasked on a cache connection; it is opened again each time this "
                    "happens (does the server or a proxy refuse CLIENT REPLY SKIP?)", peeked[:32])
