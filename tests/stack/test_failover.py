"""Replicas going away: a SIGTERM while reads and writes flow loses none of
them (the replica stops accepting, finishes what it has received, and nginx
sends new connections to another replica), and with every replica down nginx
answers with its own friendly pages.

Each test restarts whatever it stops, so the shared stack is whole again for
the tests after it."""
import signal
import threading
import time

from tests.stack.conftest import request, wait_in_rotation


def hammer(url: str, headers: dict, stop: threading.Event, results: list, method: str = "GET"):
    while not stop.is_set():
        try:
            body = {"title": "written during a restart"} if method == "POST" else None
            reply = request(method, url, headers=headers, body=body, timeout=15)
            expected = 201 if method == "POST" else 200
            status = 200 if reply.status == expected else reply.status
            results.append((time.monotonic(), status, reply.headers.get("X-Upstream", "")))
        except OSError as error:  # a lost request: the test must see it
            results.append((time.monotonic(), repr(error), ""))


def test_sigterm_to_a_replica_loses_no_request(stack, auth):
    created = request("POST", f"{stack.url}/api/v1/tasks", headers=auth, body={"title": "failover"})
    urls = [(f"{stack.url}/api/v1/tasks/{created.json()['id']}", auth),
            (f"{stack.url}/api/v1/tasks?limit=20", auth),
            (f"{stack.url}/api/v1/health", {})]
    victim = stack.replica_urls[0].removeprefix("http://")
    stop, results, threads = threading.Event(), [], []
    for index in range(6):
        url, headers = urls[index % len(urls)]
        threads.append(threading.Thread(target=hammer, args=(url, headers, stop, results)))
    for _ in range(2):  # writes are not retried by nginx: the replica itself must finish them
        threads.append(threading.Thread(target=hammer, args=(f"{stack.url}/api/v1/tasks", auth, stop, results,
                                                             "POST")))
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        killed_at = time.monotonic()
        stack.stop_replica(0, signal.SIGTERM)
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    try:
        failures = [r for r in results if r[1] != 200]
        assert not failures, failures[:5]
        before = [r for r in results if r[0] < killed_at]
        after = [r for r in results if r[0] > killed_at + 0.5]
        assert any(victim in r[2] for r in before), "the victim served nothing before it was stopped"
        assert len(after) > 20
        # Afterwards the victim appears only as a failed first try, never as the answer.
        assert not any(r[2].split(", ")[-1] == victim for r in after)
    finally:
        stack.start_replica(0)
        stack.wait_replica(0)
    wait_in_rotation(stack)


def test_friendly_pages_when_every_replica_is_down(stack):
    for index in range(len(stack.replica_urls)):
        stack.stop_replica(index)
    try:
        page = request("GET", f"{stack.url}/admin/login")
        assert page.status == 502
        assert page.headers["Content-Type"].startswith("text/html")
        assert b"try again" in page.body
        api = request("GET", f"{stack.url}/api/v1/health")
        assert api.status == 502
        assert api.headers["Content-Type"] == "application/problem+json"
        assert api.json()["status"] == 502
        # Static files do not need a replica at all.
        assert request("GET", f"{stack.url}/static/vendor/bootstrap/LICENSE").status == 200
    finally:
        for index in range(len(stack.replica_urls)):
            stack.start_replica(index)
        for index in range(len(stack.replica_urls)):
            stack.wait_replica(index)
    wait_in_rotation(stack)
