"""best_app.serve's graceful stop, piece by piece (tests/test_entrypoint.py stops a real server)."""
import socket

from waitress.channel import HTTPChannel
from waitress.server import create_server

from best_app.serve import _accept_pending, _Channel


def test_connections_waiting_in_the_backlog_are_accepted_before_the_listener_closes():
    """Closing the listener would reset them, and lose any request already written into them."""
    socket_map: dict = {}
    server = create_server(lambda environ, start_response: [], map=socket_map, host="127.0.0.1", port=0)
    server.channel_class = _Channel
    clients = [socket.create_connection(("127.0.0.1", server.effective_port)) for _ in range(3)]
    try:
        # Completed by the kernel, accepted by nobody: the server loop has not run.
        assert _accept_pending(server) == 3
        assert sum(isinstance(c, HTTPChannel) for c in socket_map.values()) == 3
        assert _accept_pending(server) == 0
    finally:
        for client in clients:
            client.close()
        for channel in list(socket_map.values()):
            channel.close()
