"""The client's address, believing `X-Forwarded-For` only as far as our own proxies wrote it.

Each trusted proxy appends the address it saw to the header, so with N trusted proxies the
client is the N-th entry from the right; anything further left was written by the client and
proves nothing. With none trusted (`TRUSTED_PROXY_COUNT=0`, the default and the demo's) the
header is ignored and the socket's peer is the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    peer = str(request.META.get("REMOTE_ADDR") or "")
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if trusted <= 0:
        return peer
    hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < trusted:  # fewer hops than proxies: the request skipped one of them
        return peer
    candidate = hops[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


def is_loopback(request: HttpRequest) -> bool:
    """The request comes from this machine itself (a developer's own browser or curl)."""
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


def axes_client_ip(request: HttpRequest) -> str:
    """django-axes' AXES_CLIENT_IP_CALLABLE: lockouts count the same address throttles do."""
    return client_address(request)
