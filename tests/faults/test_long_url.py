"""Over-long URLs and header values sent through nginx to two replicas.

A request nginx accepts is answered by the app, whatever the response
headers echo of it (a redirect's Location carries the URL, percent-encoded,
and the Host); a longer one is refused by nginx with a 4xx. Neither is ever a
502, and neither takes a replica out of rotation: the ordinary requests sent
right after get their normal answers.
"""
from __future__ import annotations

from collections import Counter

from tests.loopback import request, wait_in_rotation

# nginx refuses a request line or a header line that does not fit one 4 KiB
# buffer (large_client_header_buffers in nginx/nginx.conf.template).
LINE_CAP = 4096
ATTACK = "/admin/login?next=/" + "a" * 3300


def under_cap(prefix: str, fill: str = "a") -> str:
    """`prefix` padded so that the request line "GET <path> HTTP/1.1\\r\\n" just fits."""
    room = LINE_CAP - len("GET  HTTP/1.1\r\n") - len(prefix) - 16
    return prefix + fill * (room // len(fill))


def ordinary_traffic(stack, count: int = 40) -> Counter:
    """The statuses of `count` ordinary anonymous requests, one after another."""
    paths = ["/api/v1/health", "/admin/login", "/api/docs", "/api/v1/openapi.json"]
    return Counter(request("GET", stack.url + paths[i % len(paths)]).status for i in range(count))


def assert_rotation_untouched(stack):
    statuses = ordinary_traffic(stack)
    assert statuses == Counter({200: 40}), statuses
    # Both replicas answered at once: neither was marked down.
    wait_in_rotation(stack, timeout=1.0)


def test_the_attack_pair_is_answered_and_costs_no_replica(stack):
    first, second = request("GET", stack.url + ATTACK), request("GET", stack.url + ATTACK)
    assert (first.status, second.status) == (200, 200), (first.body[:200], second.body[:200])
    assert_rotation_untouched(stack)


def test_a_url_just_under_the_cap_gets_its_normal_answer(stack):
    login = request("GET", stack.url + under_cap("/admin/login?next=/"))
    assert login.status == 200
    # An anonymous admin page redirects to the login page with the whole URL
    # in `next`: characters the app percent-encodes make the Location header
    # three times longer than the request line.
    redirect = request("GET", stack.url + under_cap("/admin/tasks?q=", '"<>'))
    assert redirect.status == 302, redirect.body[:200]
    assert len(redirect.headers["Location"]) > 2 * LINE_CAP
    assert_rotation_untouched(stack)


def test_a_url_over_the_cap_is_refused_by_nginx(stack):
    for _ in range(2):
        reply = request("GET", stack.url + ATTACK + "a" * LINE_CAP)
        assert reply.status == 414
        assert reply.headers["Content-Type"].startswith("text/html")
        assert reply.headers.get("X-Upstream") is None  # no replica was asked
    assert_rotation_untouched(stack)


def test_long_header_values_are_answered_or_refused(stack):
    # A Host just under the cap (it is part of what nginx keeps per request,
    # and the app reads it through X-Forwarded-Host), with a URL whose
    # percent-encoded echo in the redirect is three times its length.
    host = ".".join(["h" * 60] * 60)
    for _ in range(2):
        reply = request("GET", stack.url + "/admin/tasks?q=" + '"<>' * 300, headers={"Host": host})
        assert reply.status == 302, reply.body[:200]
        assert "/admin/login?next=" in reply.headers["Location"]
    too_long = request("GET", stack.url + "/admin/login", headers={"Host": host + "." + host})
    assert too_long.status in (400, 431)
    assert too_long.headers.get("X-Upstream") is None
    assert_rotation_untouched(stack)
