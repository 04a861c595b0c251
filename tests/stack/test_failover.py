"""Every replica gone: nginx answers with its own friendly pages, HTML or
problem+json, and still serves static files.

The test restarts what it stops, so the shared stack is whole again for the
tests after it. A single replica stopped and restarted under reads and
writes is in the fault suite (tests/faults/test_replica_restart.py), on a
stack of its own.
"""
from tests.stack.conftest import request, wait_in_rotation


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
