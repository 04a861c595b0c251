"""Commands on this thread's own connection to Redis (best_app.cache_thread): what is
sent, what is waited for, and a connection Redis closed since."""
from __future__ import annotations

import socket

import pytest
import redis

from best_app.cache_thread import thread_call, thread_client, thread_pipeline, thread_send
from tests.conftest import USING_REDIS, make_task

on_redis = pytest.mark.skipif(not USING_REDIS, reason="a connection to Redis of this thread's own")


@on_redis
def test_a_thread_pipeline_reads_every_reply_even_after_an_error_reply(app, control):
    prefix = app.config["CACHE_KEY_PREFIX"]
    control.set(prefix + "not-a-number", "x")
    control.set(prefix + "counter", 5)
    with pytest.raises(redis.ResponseError):
        thread_pipeline([("INCR", prefix + "counter"), ("INCR", prefix + "not-a-number"),
                         ("INCR", prefix + "counter")])
    assert int(control.get(prefix + "counter")) == 7  # the commands on either side of it ran
    # Nothing is left pending: the next command reads its own reply, not one of those.
    assert thread_call("GET", prefix + "counter") == b"7"
    assert thread_pipeline([("INCR", prefix + "counter"), ("GET", prefix + "counter")]) == [8, b"8"]


@on_redis
def test_a_thread_pipeline_on_a_connection_broken_since_is_sent_again(app, control):
    prefix = app.config["CACHE_KEY_PREFIX"]
    thread_pipeline([("SET", prefix + "counter", 1)])
    control.client_kill_filter(_id=thread_client().client_id())  # as a Redis restart would
    assert thread_pipeline([("INCR", prefix + "counter")]) == [2]


@on_redis
def test_a_command_sent_unanswered_leaves_no_reply_pending(app, control):
    prefix = app.config["CACHE_KEY_PREFIX"]
    control.set(prefix + "not-a-number", "x")
    thread_send("SET", prefix + "entry", b"value", "EX", 60)
    thread_send("INCR", prefix + "not-a-number")  # an error, which is not answered either
    # Were a reply pending, this would read it ("OK", or the error) as its own.
    assert thread_call("GET", prefix + "entry") == b"value"
    assert 0 < control.ttl(prefix + "entry") <= 60
    assert control.get(prefix + "not-a-number") == b"x"


@on_redis
def test_a_command_sent_unanswered_on_a_connection_broken_since_is_sent_again(app, control):
    """Nothing would report it lost: the closed connection must be seen before sending."""
    prefix = app.config["CACHE_KEY_PREFIX"]
    assert thread_call("PING") == b"PONG"
    control.client_kill_filter(_id=thread_client().client_id())  # as a Redis restart would
    thread_send("SET", prefix + "entry", b"after")
    assert control.get(prefix + "entry") == b"after"


@on_redis
def test_a_list_page_that_misses_the_cache_waits_for_no_reply_to_its_set(app, client, auth_headers):
    make_task("t")
    connection = thread_client().connection
    events = []
    pack_commands, read_response = connection.pack_commands, connection.read_response

    def sent(commands):
        events.append(("sent", [command[0] for command in commands]))
        return pack_commands(commands)

    def read(*args, **kwargs):
        events.append(("reply", None))
        return read_response(*args, **kwargs)

    connection.pack_commands, connection.read_response = sent, read
    try:
        response = client.get("/api/v1/tasks?limit=2", headers=auth_headers)
    finally:
        del connection.pack_commands, connection.read_response
    assert response.headers["X-Cache"] == "MISS"
    sets = [i for i, event in enumerate(events) if event[0] == "sent" and "SET" in event[1]]
    assert len(sets) == 2  # the token check's entry and the page's
    for at in sets:
        assert events[at] == ("sent", ["CLIENT", "SET"])  # CLIENT REPLY SKIP
        assert [kind for kind, _ in events[at + 1:at + 2]] in ([], ["sent"])  # no reply waited for


def test_a_send_that_keeps_the_gil_sends_what_fits_and_raises_for_a_reset_peer():
    from best_app.socket_peek import send_now

    ours, theirs = socket.socketpair()
    try:
        assert send_now(ours.fileno(), b"*1\r\n$4\r\nPING\r\n") == 14
        assert theirs.recv(100) == b"*1\r\n$4\r\nPING\r\n"
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        big = b"x" * (1 << 22)
        taken = send_now(ours.fileno(), big)
        assert 0 < taken < len(big)  # what fits: the rest is the caller's to send, waiting
        assert send_now(ours.fileno(), big) == 0  # full: nothing taken, nothing raised
    finally:
        theirs.close()
    with pytest.raises(OSError):
        send_now(ours.fileno(), b"more")  # the peer is gone
    ours.close()


@on_redis
def test_commands_are_written_without_letting_go_of_the_gil(app, monkeypatch):
    import best_app.cache_thread as cache_thread

    written = []
    real = cache_thread.send_now
    monkeypatch.setattr(cache_thread, "send_now", lambda fd, data: written.append(data) or real(fd, data))
    assert thread_call("PING") == b"PONG"
    assert written == [b"*1\r\n$4\r\nPING\r\n"]


def test_a_tls_connection_is_written_through_its_tls_layer(monkeypatch):
    """send_now writes under TLS: its bytes would corrupt the stream."""
    import ssl
    import types

    import best_app.cache_thread as cache_thread

    monkeypatch.setattr(cache_thread, "send_now", lambda fd, data: pytest.fail("written under TLS"))
    monkeypatch.setattr(cache_thread, "waiting", lambda fd: pytest.fail("peeked under TLS"))
    sent = []

    class Recorded(ssl.SSLSocket):
        def sendall(self, data, flags=0):
            sent.append(data)

    tls = Recorded.__new__(Recorded)  # an SSLSocket with no descriptor, whose writes are recorded
    connection = types.SimpleNamespace(_sock=tls, pack_commands=lambda commands: [b"*1\r\n$4\r\nPING\r\n"])
    cache_thread._send(connection, [("PING",)])
    assert sent == [b"*1\r\n$4\r\nPING\r\n"]


@on_redis
def test_a_reply_nobody_asked_for_is_reported_once_and_the_command_sent_on_a_new_connection(
        app, control, caplog, monkeypatch):
    """Something the server sent unasked: correct, but a new connection each time, which an
    operator should hear about."""
    import threading
    import time

    import best_app.cache_thread as cache_thread
    from best_app.socket_peek import waiting

    monkeypatch.setattr(cache_thread, "_warned", threading.Event())
    prefix = app.config["CACHE_KEY_PREFIX"]
    control.set(prefix + "entry", b"kept")
    for _ in range(2):
        connection = thread_client().connection
        connection.send_command("PING")  # its reply is left unread
        deadline = time.monotonic() + 5
        while not waiting(connection._sock.fileno()) and time.monotonic() < deadline:
            time.sleep(0.001)  # until the PONG is here
        assert thread_call("GET", prefix + "entry") == b"kept"
    warnings = [record for record in caplog.records if "unasked" in record.getMessage()]
    assert len(warnings) == 1 and "PONG" in warnings[0].getMessage()


@on_redis
def test_a_server_that_refuses_to_skip_replies_has_them_waited_for(app, control, caplog, monkeypatch):
    """Sent unanswered all the same, the SET's reply (and the refusal) would be read by the
    next command as its own."""
    import threading

    import best_app.cache_thread as cache_thread

    monkeypatch.setattr(cache_thread, "_warned", threading.Event())
    monkeypatch.setattr(cache_thread, "SKIP_REPLY", ("CLIENT", "REPLY", "NEVER"))  # refused, as by a proxy
    prefix = app.config["CACHE_KEY_PREFIX"]
    for value in (b"one", b"two"):
        thread_send("SET", prefix + "entry", value)
        assert thread_call("GET", prefix + "entry") == value
    assert any("refuses CLIENT REPLY SKIP" in record.getMessage() for record in caplog.records)


@on_redis
def test_cache_connections_speak_resp2_which_pushes_nothing_unasked(app):
    from best_app.extensions import cache

    assert thread_client().connection.protocol == 2
    assert cache.cache._read_client.connection_pool.connection_kwargs["protocol"] == 2
