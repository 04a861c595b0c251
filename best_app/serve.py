"""Serve best_app with waitress, and stop gracefully on SIGTERM.

`waitress-serve` exits at once on SIGTERM, dropping requests in flight: a
replica being restarted behind nginx would turn them into 502s. Here SIGTERM
(or Ctrl-C) first closes the listening socket, so new connections are refused
and nginx sends them to another replica; requests already received are
finished and their responses sent; idle keep-alive connections are closed;
then the process exits. A bound (DRAIN_SECONDS) keeps a stuck request from
holding up a shutdown forever.

    python -m best_app.serve [--host H] [--port P] [--threads N]
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server

log = logging.getLogger("best_app.serve")


def _idle(channel: HTTPChannel) -> bool:
    return not channel.requests and channel.request is None and not channel.total_outbufs_len


def _close_idle_channels(socket_map: dict) -> int:
    """Close connections with nothing in flight; return how many are still busy."""
    busy = 0
    for channel in list(socket_map.values()):
        if not isinstance(channel, HTTPChannel):
            continue
        with channel.requests_lock:
            if _idle(channel):
                # Reads after this are ignored and the socket closes on the next loop.
                channel.will_close = True
            else:
                busy += 1
    return busy


def _loop_once(socket_map: dict, timeout: float) -> None:
    wasyncore.loop(timeout=timeout, map=socket_map, use_poll=True, count=1)


def serve(app, host: str, port: int, threads: int, drain_seconds: float) -> None:
    socket_map: dict = {}
    # X-Forwarded-* headers are kept: the app's ProxyFix (PROXY_FIX_HOPS)
    # decides how many proxies to trust.
    server = create_server(app, map=socket_map, host=host, port=port, threads=threads, ident="best_app",
                           clear_untrusted_proxy_headers=False)
    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("serving on http://%s:%s with %d threads", host, server.effective_port, threads)

    while not stopping.is_set():
        _loop_once(socket_map, timeout=0.5)

    log.info("stopping: no new connections; finishing requests in flight")
    server.accepting = False
    server.del_channel()
    server.socket.close()
    deadline = time.monotonic() + drain_seconds
    while time.monotonic() < deadline:
        busy = _close_idle_channels(socket_map)
        if not busy and not any(isinstance(c, HTTPChannel) for c in socket_map.values()):
            break
        _loop_once(socket_map, timeout=0.05)
    else:
        log.warning("gave up waiting for requests in flight after %ss", drain_seconds)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
    log.info("stopped")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve best_app with waitress.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WAITRESS_THREADS", "8")))
    parser.add_argument("--drain-seconds", type=float, default=float(os.environ.get("DRAIN_SECONDS", "25")))
    args = parser.parse_args(argv)

    from best_app import create_app

    app = create_app()  # a configuration error exits here with one line
    serve(app, args.host, args.port, args.threads, args.drain_seconds)


if __name__ == "__main__":
    main()
