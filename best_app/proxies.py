"""Which clients may tell the app who the client is.

Behind nginx the app learns the client's address, scheme and host from
X-Forwarded-* headers (werkzeug's ProxyFix, PROXY_FIX_HOPS hops). Those headers
are only as trustworthy as whoever sent them: a client that reaches a replica
directly could claim any address and dodge the per-address login throttle. So
ProxyFix applies only to requests whose REMOTE_ADDR is in TRUSTED_PROXIES; from
anyone else the X-Forwarded-* headers are removed before the app sees them.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from werkzeug.middleware.proxy_fix import ProxyFix

# WSGI names of the headers ProxyFix reads (and of X-Forwarded-Server, which
# it does not, but which means nothing from a client either).
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_X_FORWARDED_SERVER",
                     "HTTP_FORWARDED")


class TrustedProxyFix:
    """ProxyFix for requests from trusted proxies; forwarded headers stripped for the rest."""

    def __init__(self, app, networks: Iterable, hops: int):
        self.app = app
        self.networks = tuple(networks)
        self.proxied = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    def is_trusted(self, remote_addr: str | None) -> bool:
        try:
            address = ipaddress.ip_address(remote_addr or "")
        except ValueError:  # absent (a Unix socket) or not an address: not a proxy we know
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.is_trusted(environ.get("REMOTE_ADDR")):
            return self.proxied(environ, start_response)
        for name in FORWARDED_HEADERS:
            environ.pop(name, None)
        return self.app(environ, start_response)
