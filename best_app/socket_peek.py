"""Socket calls made without letting go of the GIL: whether anything is waiting, and a send.

Two callers ask whether anything is waiting on every request: the cache's
tracking connection (best_app.cache_tracking: has Redis pushed an
invalidation?) and the database pool (best_app.db_pool: has PostgreSQL closed
this idle connection?). The usual ways to ask (select, poll, a non-blocking
recv through the socket module) release the GIL around the system call; under
waitress's threads each release can cost a wait for another thread to give
the GIL back, and a measured third of a replayed hit's throughput went on
that alone. A non-blocking peek called through ctypes.PyDLL keeps the GIL: it
never blocks (MSG_DONTWAIT) and leaves the bytes for their owner to read
(MSG_PEEK). Commands to Redis are sent the same way (`send_now`,
best_app.cache_thread): a send to a socket with room in its buffer never
waits, so there is nothing to let the GIL go for.
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket


def _with_the_gil(name: str):
    """The C library's function `name`, called without letting go of the GIL (ctypes.PyDLL),
    or None where the C library cannot be called this way."""
    try:
        return getattr(ctypes.PyDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None


def _peek_with_the_gil():
    """The check, or None where the C library cannot be called this way."""
    recv = _with_the_gil("recv")
    if recv is None:
        return None
    recv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    recv.restype = ctypes.c_ssize_t
    byte = ctypes.create_string_buffer(1)
    flags = socket.MSG_PEEK | socket.MSG_DONTWAIT

    def waiting(fd: int) -> bool:
        # Nothing waiting is -1 with EAGAIN; anything else (bytes, the peer closing
        # the connection, an error) is for the socket's owner to read and report.
        return recv(fd, byte, 1, flags) != -1 or ctypes.get_errno() not in (errno.EAGAIN, errno.EWOULDBLOCK)

    return waiting


def always(fd: int) -> bool:
    """The stand-in where there is no such call: "something may be waiting, go and look"."""
    return True


waiting = _peek_with_the_gil() or always


def _send_with_the_gil():
    """send_now, or None where the C library cannot be called this way."""
    send = _with_the_gil("send")
    if send is None:
        return None
    send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    send.restype = ctypes.c_ssize_t
    # MSG_NOSIGNAL: a peer gone is an error to raise, not a SIGPIPE for the process.
    flags = socket.MSG_DONTWAIT | getattr(socket, "MSG_NOSIGNAL", 0)

    def send_now(fd: int, data: bytes) -> int:
        """How much of `data` the socket took without waiting (0 when its buffer is full);
        raises OSError when the socket cannot take any (the peer reset it, say)."""
        sent = send(fd, data, len(data), flags)
        if sent >= 0:
            return sent
        code = ctypes.get_errno()
        if code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
            return 0
        raise OSError(code, os.strerror(code))

    return send_now


def _send_nothing_now(fd: int, data: bytes) -> int:
    """The stand-in where there is no such call: the caller sends it all the usual way."""
    return 0


send_now = _send_with_the_gil() or _send_nothing_now
