"""Serve best_app with waitress, and stop gracefully on SIGTERM.

`waitress-serve` exits at once on SIGTERM, dropping requests in flight: a
replica being restarted behind nginx would turn them into 502s. Here SIGTERM
(or Ctrl-C) first accepts the connections waiting in the backlog (see
_accept_pending), then closes the listening socket, so new connections are refused
and nginx sends them to another replica. Requests already received, and any
that still come on open keep-alive connections, are answered with
`Connection: close`, so the client (nginx) never sends another on that
connection. An idle connection is closed only once it has been idle for
IDLE_CLOSE_SECONDS, longer than nginx keeps one (its upstream keepalive_timeout):
closing one sooner races a request nginx may be sending on it at that moment,
and a POST lost that way is a 502, since nginx must not retry it elsewhere.
Then the process exits. A bound (DRAIN_SECONDS) keeps a stuck request or
client from holding up a shutdown forever.

    python -m best_app.serve [--host H] [--port P] [--threads N]
"""
from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import threading
import time

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import WSGITask

log = logging.getLogger("best_app.serve")

# Longer than nginx keeps an idle upstream connection (keepalive_timeout in the upstream
# block of nginx/nginx.conf.template), so that nginx closes its idle connections first.
IDLE_CLOSE_SECONDS = 5.0


class _DrainingTask(WSGITask):
    """A response that says `Connection: close` once the server is stopping."""

    def build_response_header(self):
        if getattr(self.channel.server, "draining", False):
            self.set_close_on_finish()  # adds the header while none has been written
        return super().build_response_header()


class _Channel(HTTPChannel):
    task_class = _DrainingTask


def _idle(channel: HTTPChannel) -> bool:
    return not channel.requests and channel.request is None and not channel.total_outbufs_len


def _close_idle_channels(socket_map: dict, idle_seconds: float) -> int:
    """Close connections idle for `idle_seconds`; return how many are still open."""
    still_open = 0
    now = time.time()  # waitress notes last_activity by time.time()
    for channel in list(socket_map.values()):
        if not isinstance(channel, HTTPChannel):
            continue
        with channel.requests_lock:
            if _idle(channel) and now - channel.last_activity >= idle_seconds:
                # Reads after this are ignored and the socket closes on the next loop.
                channel.will_close = True
            else:
                still_open += 1
    return still_open


def _accept_pending(server, limit: int = 10_000) -> int:
    """Accept the connections waiting in the listening socket's backlog; return how many.

    Closing a listening socket resets the connections the kernel completed but nobody
    accepted yet, and a request nginx had already written into one would be lost (for a
    POST, a 502: nginx must not send it again). Accepted, they are served like the rest.
    """
    poller = select.poll()
    poller.register(server.socket, select.POLLIN)
    accepted = 0
    while accepted < limit and poller.poll(0):
        before = len(server._map)
        server.handle_accept()
        if len(server._map) == before:  # nothing accepted after all (the peer gave up)
            break
        accepted += 1
    return accepted


def _loop_once(socket_map: dict, timeout: float) -> None:
    wasyncore.loop(timeout=timeout, map=socket_map, use_poll=True, count=1)


def serve(app, host: str, port: int, threads: int, drain_seconds: float,
          idle_seconds: float = IDLE_CLOSE_SECONDS) -> None:
    socket_map: dict = {}
    # X-Forwarded-* headers are kept: the app's ProxyFix (PROXY_FIX_HOPS)
    # decides how many proxies to trust.
    server = create_server(app, map=socket_map, host=host, port=port, threads=threads, ident="best_app",
                           clear_untrusted_proxy_headers=False)
    server.channel_class = _Channel
    if drain_seconds <= idle_seconds:
        log.warning("DRAIN_SECONDS (%s) is not above %s: stopping may close keep-alive connections nginx "
                    "is about to use", drain_seconds, idle_seconds)
    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("serving on http://%s:%s with %d threads", host, server.effective_port, threads)

    while not stopping.is_set():
        _loop_once(socket_map, timeout=0.5)

    log.info("stopping: no new connections; finishing requests in flight")
    server.draining = True
    _accept_pending(server)
    server.accepting = False
    server.del_channel()
    server.socket.close()
    deadline = time.monotonic() + drain_seconds
    while time.monotonic() < deadline:
        still_open = _close_idle_channels(socket_map, idle_seconds)
        if not still_open and not any(isinstance(c, HTTPChannel) for c in socket_map.values()):
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
    parser.add_argument("--threads", type=int, help="default: the app's WAITRESS_THREADS (config.py)")
    parser.add_argument("--drain-seconds", type=float, default=float(os.environ.get("DRAIN_SECONDS", "25")))
    args = parser.parse_args(argv)

    from best_app import create_app

    app = create_app()  # a configuration error exits here with one line
    serve(app, args.host, args.port, args.threads or app.config["WAITRESS_THREADS"], args.drain_seconds)


if __name__ == "__main__":
    main()
