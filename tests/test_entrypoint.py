"""service_entrypoint.sh: migrate, then serve with waitress; stop on SIGTERM."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def entrypoint_env(tmp_path, **extra) -> dict:
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", "HOME": str(tmp_path),
           "SECRET_KEY": "entrypoint-test", "LOG_LEVEL": "WARNING"}
    env.update(extra)
    return env


def test_entrypoint_migrates_and_serves(tmp_path, empty_database_url):
    port = free_port()
    env = entrypoint_env(tmp_path, DATABASE_URL=empty_database_url, PORT=str(port), DB_WAIT_SECONDS="10")
    server = subprocess.Popen(["bash", str(ROOT / "service_entrypoint.sh")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body, deadline = None, time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as response:
                    body = json.load(response)
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert body == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}, server.poll()
        # exec: the shell was replaced by waitress, so SIGTERM reaches the server itself.
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) is not None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_entrypoint_gives_up_when_the_database_never_comes(tmp_path):
    env = entrypoint_env(tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
                         PORT=str(free_port()), DB_WAIT_SECONDS="1")
    result = subprocess.run(["bash", str(ROOT / "service_entrypoint.sh")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "database not reachable" in result.stderr


def test_a_stopping_server_answers_requests_on_open_connections_and_says_it_closes(tmp_path, empty_database_url):
    """After SIGTERM, a request on a keep-alive connection opened before it is answered,
    with Connection: close, so that nginx never sends another on it. Closing idle connections
    at once raced requests nginx was sending on them: a POST lost that way is a 502."""
    import http.client

    port = free_port()
    env = entrypoint_env(tmp_path, DATABASE_URL=empty_database_url, PORT=str(port), DB_WAIT_SECONDS="10")
    server = subprocess.Popen(["bash", str(ROOT / "service_entrypoint.sh")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/api/v1/health")
                first = connection.getresponse()
                first.read()
                break
            except (ConnectionError, OSError):
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        assert first.status == 200 and first.getheader("Connection") is None  # kept alive
        server.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # the listening socket is closed by now; this connection is idle
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            refused = False
        except ConnectionRefusedError:
            refused = True
        assert refused, "new connections must be refused while stopping"
        connection.request("GET", "/api/v1/health")
        second = connection.getresponse()
        second.read()
        assert second.status == 200 and second.getheader("Connection") == "close"
        connection.close()
        assert server.wait(timeout=20) is not None  # nothing open any more: it exits
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
