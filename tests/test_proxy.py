"""X-Forwarded-* is believed only from TRUSTED_PROXIES.

A client that reaches a replica directly must not choose its own address (and
with it a fresh login throttle) or scheme or host by sending the headers nginx
would send.
"""
import ipaddress

import pytest
from flask import request

from best_app import create_app
from best_app.proxies import TrustedProxyFix
from config import ConfigError, TestConfig as _TestConfig
from tests.conftest import ADMIN_PASSWORD
from tests.helpers import csrf_token

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example",
           "X-Forwarded-Port": "443", "X-Forwarded-Prefix": "/elsewhere"}


def _proxied_app(trusted: str, hops: int = 1):
    config = _TestConfig()
    config.PROXY_FIX_HOPS = hops
    config.TRUSTED_PROXIES = trusted
    app = create_app(config)

    @app.get("/_whoami")
    def whoami():
        return {"remote_addr": request.remote_addr, "scheme": request.scheme, "host": request.host,
                "root": request.root_path}

    return app


def _whoami(app, remote_addr: str, headers=FORWARDED) -> dict:
    return app.test_client().get("/_whoami", headers=headers, environ_base={"REMOTE_ADDR": remote_addr}).json


@pytest.mark.parametrize("remote_addr", ["198.51.100.20", "10.0.0.9", "2001:db8::5", "::ffff:198.51.100.20", ""])
def test_forwarded_headers_from_an_untrusted_address_are_ignored(remote_addr):
    app = _proxied_app("127.0.0.1/32,::1/128,192.168.0.0/16")
    seen = _whoami(app, remote_addr)
    assert seen == {"remote_addr": remote_addr, "scheme": "http", "host": "localhost", "root": ""}


@pytest.mark.parametrize("trusted,remote_addr", [("127.0.0.1/32,::1/128", "127.0.0.1"),
                                                 ("127.0.0.1/32,::1/128", "::1"),
                                                 ("172.16.0.0/12", "172.18.0.5"),
                                                 ("172.16.0.0/12", "::ffff:172.18.0.5"),
                                                 ("fd00::/8, 10.1.2.3", "10.1.2.3"),
                                                 ("fd00::/8, 10.1.2.3", "fd12::7")])
def test_forwarded_headers_from_a_trusted_proxy_are_honoured(trusted, remote_addr):
    seen = _whoami(_proxied_app(trusted), remote_addr)
    assert seen == {"remote_addr": "203.0.113.7", "scheme": "https", "host": "app.example",
                    "root": "/elsewhere"}


def test_a_trusted_proxy_is_trusted_for_its_hops_only():
    # nginx appends the address it saw; anything a client put before it is not believed.
    app = _proxied_app("127.0.0.1/32")
    seen = _whoami(app, "127.0.0.1", {"X-Forwarded-For": "1.2.3.4, 203.0.113.7"})
    assert seen["remote_addr"] == "203.0.113.7"


def test_without_proxy_fix_headers_are_never_used():
    config = _TestConfig()
    app = create_app(config)
    assert not isinstance(app.wsgi_app, TrustedProxyFix)


def test_proxy_fix_without_trusted_proxies_refuses_to_start():
    config = _TestConfig()
    config.PROXY_FIX_HOPS = 1
    with pytest.raises(ConfigError) as excinfo:
        create_app(config)
    assert "TRUSTED_PROXIES" in str(excinfo.value.code) and "PROXY_FIX_HOPS" in str(excinfo.value.code)


def test_the_login_throttle_counts_a_direct_client_by_its_own_address(tmp_path):
    """Failed logins from one address, each claiming another X-Forwarded-For: the sixth is refused."""
    from best_app.extensions import db, limiter

    config = _TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'throttle.sqlite3'}"
    config.SQLALCHEMY_ENGINE_OPTIONS = {}
    config.PROXY_FIX_HOPS = 1
    config.TRUSTED_PROXIES = "127.0.0.1/32"
    app = create_app(config)
    with app.app_context():
        db.create_all()
        limiter.reset()  # the counters may live in Redis, which outlives a test
        client = app.test_client()
        statuses = []
        for attempt in range(6):
            # Another login each time, so only the per-address limit can apply.
            environ = {"REMOTE_ADDR": "198.51.100.20"}
            form = client.get("/admin/login", environ_base=environ)
            reply = client.post("/admin/login", environ_base=environ,
                                headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
                                data={"login": f"nobody{attempt}", "password": ADMIN_PASSWORD,
                                      "csrf_token": csrf_token(form)})
            statuses.append(reply.status_code)
        limiter.reset()
        db.session.remove()
        db.engine.dispose()
    assert statuses == [401] * 5 + [429]


def test_remote_addr_checks_are_exact():
    middleware = TrustedProxyFix(lambda environ, start: [], [ipaddress.ip_network("10.0.0.0/8")], 1)
    assert middleware.is_trusted("10.255.255.255")
    assert not middleware.is_trusted("11.0.0.1")
    assert not middleware.is_trusted(None)
    assert not middleware.is_trusted("not-an-address")
