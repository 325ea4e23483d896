"""Where people reach us, for links that leave the request (e-mails, provider return URLs).

Built from settings and the host's licensee, never from the request's `Host` header: the
sender chooses that (another port, upper case, a trailing dot, a host of their own)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site_origin(host: str) -> str:
    port = settings.SITE_PORT
    suffix = f":{port}" if port and port not in ("80", "443") else ""
    return f"{settings.SITE_SCHEME}://{host}{suffix}"


def canonical_origin(request: HttpRequest) -> str:
    """The canonical origin of the licensee (or the public site) this request was routed to."""
    slug = getattr(getattr(request, "tenant", None), "slug", "") or ""
    return site_origin(f"{slug}.{settings.BASE_DOMAIN}" if slug else settings.BASE_DOMAIN)
