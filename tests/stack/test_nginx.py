"""nginx in front of the replicas: load balancing, the micro-cache, static
files, compression, proxy headers, limits and error pages."""
import gzip
import time
import uuid

from tests.stack.conftest import REPLICAS, ROOT, request


def replica_addresses(stack) -> set[str]:
    return {url.removeprefix("http://") for url in stack.replica_urls}


def test_requests_are_spread_over_every_replica(stack):
    share = 6
    seen = [request("GET", f"{stack.url}/api/v1/health").headers["X-Upstream"] for _ in range(share * REPLICAS)]
    assert set(seen) == replica_addresses(stack)
    # Round robin (per nginx worker): no replica gets more than twice its share.
    assert max(seen.count(address) for address in set(seen)) <= 2 * share


def test_anonymous_public_page_is_micro_cached_for_about_a_second(stack):
    url = f"{stack.url}/api/docs?probe={uuid.uuid4().hex}"
    first, second = request("GET", url), request("GET", url)
    assert first.status == second.status == 200
    assert first.headers["X-Cache-Status"] == "MISS"
    assert second.headers["X-Cache-Status"] == "HIT"
    assert second.headers.get("X-Upstream") is None  # no replica was asked
    assert second.body == first.body
    # nginx keeps "1s" in whole seconds from the second it stored the entry
    # in, so an entry lives between one and two seconds.
    time.sleep(2.1)
    third = request("GET", url)
    assert third.headers["X-Cache-Status"] in {"EXPIRED", "MISS"}
    assert third.headers["X-Upstream"] in replica_addresses(stack)


def test_authorized_requests_bypass_the_cache_and_are_never_stored(stack, auth):
    url = f"{stack.url}/api/docs?probe={uuid.uuid4().hex}"
    # The app would let this response be cached; nginx must still not store it.
    authed = request("GET", url, headers=auth)
    assert authed.status == 200
    assert authed.headers["X-Cache-Status"] == "BYPASS"
    anonymous = request("GET", url)
    assert anonymous.headers["X-Cache-Status"] == "MISS", "the authorized response was stored"
    assert request("GET", url).headers["X-Cache-Status"] == "HIT"
    # ...and a cached anonymous copy is never served to an authorized client.
    again = request("GET", url, headers=auth)
    assert again.headers["X-Cache-Status"] == "BYPASS"
    assert again.headers["X-Upstream"] in replica_addresses(stack)


def test_session_cookie_bypasses_the_cache(stack):
    url = f"{stack.url}/api/docs?probe={uuid.uuid4().hex}"
    with_cookie = {"Cookie": "session=anything"}
    assert request("GET", url, headers=with_cookie).headers["X-Cache-Status"] == "BYPASS"
    assert request("GET", url).headers["X-Cache-Status"] == "MISS"
    assert request("GET", url, headers=with_cookie).headers["X-Cache-Status"] == "BYPASS"


def test_api_reads_are_never_looked_up_in_the_micro_cache(stack, auth):
    created = request("POST", f"{stack.url}/api/v1/tasks", headers=auth, body={"title": "uncached"})
    assert created.status == 201, created.body
    url = f"{stack.url}/api/v1/tasks/{created.json()['id']}"
    replies = [request("GET", url, headers=auth) for _ in range(3)]
    assert [reply.status for reply in replies] == [200] * 3
    assert not any("X-Cache-Status" in reply.headers for reply in replies)


def test_pages_with_a_session_or_a_csrf_token_are_never_micro_cached(stack):
    # The login page sets a session cookie and carries a CSRF token: nginx
    # must not even compute a cache key for it (a long `next` made that key
    # overflow the buffer for the response headers).
    for url in (f"{stack.url}/admin/login", f"{stack.url}/admin/login?next=/" + "a" * 3300):
        for _ in range(2):
            reply = request("GET", url)
            assert reply.status == 200
            assert "session=" in reply.headers["Set-Cookie"]
            assert "X-Cache-Status" not in reply.headers


def test_over_long_request_line_is_refused_with_414(stack):
    api = request("GET", f"{stack.url}/api/v1/tasks?q=" + "x" * 5000)
    assert api.status == 414
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json()["status"] == 414
    assert api.headers.get("X-Upstream") is None
    page = request("GET", f"{stack.url}/admin/login?next=/" + "x" * 5000)
    assert page.status == 414
    assert page.headers["Content-Type"].startswith("text/html")
    assert b"too long" in page.body
    assert page.headers.get("X-Upstream") is None


def test_over_long_header_is_refused_with_431(stack):
    api = request("GET", f"{stack.url}/api/v1/health", headers={"X-Padding": "x" * 5000})
    assert api.status == 431
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json()["status"] == 431
    page = request("GET", f"{stack.url}/admin/login", headers={"Cookie": "padding=" + "x" * 5000})
    assert page.status == 431
    assert page.headers["Content-Type"].startswith("text/html")
    assert b"too large" in page.body


def test_errors_nginx_makes_itself_are_problem_json_under_api(stack):
    # nginx refuses TRACE before any location is chosen.
    api = request("TRACE", f"{stack.url}/api/v1/tasks")
    assert api.status == 405
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json() == {"type": "about:blank", "title": "Method Not Allowed", "status": 405}
    assert request("TRACE", f"{stack.url}/admin/").headers["Content-Type"].startswith("text/html")
    # A method the app does not route still gets the app's own 405.
    app_made = request("DELETE", f"{stack.url}/api/v1/tasks")
    assert app_made.status == 405
    assert "Allow" in app_made.headers and app_made.headers.get("X-Upstream")


def test_static_files_are_served_by_nginx_not_the_app(stack):
    path = "vendor/bootstrap/css/bootstrap.min.css"
    reply = request("GET", f"{stack.url}/static/{path}")
    assert reply.status == 200
    assert reply.body == (ROOT / "static" / path).read_bytes()
    assert "max-age=604800" in reply.headers["Cache-Control"]
    assert reply.headers.get("X-Upstream") is None
    # Every response the app makes carries its security headers; nginx's do not.
    assert "Content-Security-Policy" in request("GET", f"{stack.replica_urls[0]}/static/{path}").headers
    assert "Content-Security-Policy" not in reply.headers
    assert request("GET", f"{stack.url}/static/no-such-file.css").status == 404


def test_json_and_html_from_the_app_are_gzipped(stack):
    for path in ("/api/v1/openapi.json", "/admin/login"):
        reply = request("GET", stack.url + path, headers={"Accept-Encoding": "gzip"})
        assert reply.status == 200
        assert reply.headers["Content-Encoding"] == "gzip", path
        assert len(gzip.decompress(reply.body)) > len(reply.body)


def test_static_text_is_served_precompressed(stack):
    path = "vendor/bootstrap/css/bootstrap.min.css"
    reply = request("GET", f"{stack.url}/static/{path}", headers={"Accept-Encoding": "gzip"})
    assert reply.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(reply.body) == (ROOT / "static" / path).read_bytes()
    # A prepared .gz has a known length; compressing on the fly would be chunked.
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    assert reply.headers["Vary"] == "Accept-Encoding"


def test_links_ignore_spoofed_forwarding_headers(stack, auth):
    """Links are relative references built for each request: no Host or
    X-Forwarded-* header a client sends through nginx can put another site or
    prefix into them, nor into the links a cached page gives anyone else."""
    for title in ("link one", "link two"):
        request("POST", f"{stack.url}/api/v1/tasks", headers=auth, body={"title": title})
    spoofed = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https",
               "X-Forwarded-Prefix": "/evil", "X-Forwarded-Port": "444"}
    # Loopback is a trusted proxy of the replicas here, so a replica reached
    # directly honours the prefix, for that request only.
    for replica in stack.replica_urls:
        direct = request("GET", f"{replica}/api/v1/tasks?limit=1", headers=auth | spoofed)
        assert direct.headers["Link"].startswith("</evil/api/v1/tasks?"), direct.headers["Link"]
    for _ in range(2 * len(stack.replica_urls)):  # every replica, its page now cached
        reply = request("GET", f"{stack.url}/api/v1/tasks?limit=1", headers=auth | spoofed)
        assert reply.status == 200 and reply.headers["X-Cache"] == "HIT"
        assert reply.headers["Link"].startswith("</api/v1/tasks?"), reply.headers["Link"]


def test_oversized_body_is_refused_by_nginx_as_problem_json(stack, auth):
    body = b'{"title": "' + b"x" * (64 * 1024) + b'"}'
    reply = request("POST", f"{stack.url}/api/v1/tasks", headers=auth | {"Content-Type": "application/json"},
                    body=body)
    assert reply.status == 413
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json()["status"] == 413
    assert reply.headers.get("X-Upstream") is None


def test_a_csv_import_past_64_kib_passes_nginx_and_a_csv_export_streams_through(stack, auth):
    body = b"title\r\n" + b"Imported through nginx\r\n" * 4_000  # ~96 KB
    reply = request("POST", f"{stack.url}/api/v1/tasks/import?dry_run=true",
                    headers=auth | {"Content-Type": "text/csv"}, body=body)
    assert reply.status == 200, reply.body[:500]
    assert reply.json()["created"] == 4_000 and reply.json()["applied"] is False
    export = request("GET", f"{stack.url}/api/v1/tasks?format=csv", headers=auth)
    assert export.status == 200 and export.body.startswith(b"id,title,")
    assert export.headers["Cache-Control"] == "no-store"


def test_robots_txt_and_nginx_health(stack):
    assert b"Disallow: /admin/" in request("GET", f"{stack.url}/robots.txt").body
    assert request("GET", f"{stack.url}/nginx-health").body == b"ok\n"
