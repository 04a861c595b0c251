"""Whether anything is waiting on a socket, asked without letting go of the GIL.

Two callers ask this on every request: the cache's tracking connection
(best_app.cache_tracking: has Redis pushed an invalidation?) and the database
pool (best_app.db_pool: has PostgreSQL closed this idle connection?). The
usual ways to ask (select, poll, a non-blocking recv through the socket
module) release the GIL around the system call; under waitress's threads each
release can cost a wait for another thread to give the GIL back, and a
measured third of a replayed hit's throughput went on that alone. A
non-blocking peek called through ctypes.PyDLL keeps the GIL: it never blocks
(MSG_DONTWAIT) and leaves the bytes for their owner to read (MSG_PEEK).
"""
from __future__ import annotations

import ctypes
import errno
import socket


def _peek_with_the_gil():
    """The check, or None where the C library cannot be called this way."""
    try:
        libc = ctypes.PyDLL(None, use_errno=True)
        recv = libc.recv
    except (OSError, AttributeError):
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
