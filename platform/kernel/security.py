"""Content-Security-Policy on every response: the app's own origin only. A view that needs
LiveKit or Stripe adds exactly those origins for its page with `csp_allow`."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

_BASE = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "manifest-src": ["'self'"],
}


def livekit_origins() -> list[str]:
    """The LiveKit server's signalling (ws/wss) and HTTP origins, for a call page."""
    parsed = urlparse(settings.LIVEKIT_URL)
    secure = parsed.scheme in ("wss", "https")
    return [
        f"{'wss' if secure else 'ws'}://{parsed.netloc}",
        f"{'https' if secure else 'http'}://{parsed.netloc}",
    ]


def csp_allow(request: HttpRequest, **sources: list[str]) -> None:
    """Let this request's page also use the given origins, e.g.
    `csp_allow(request, connect_src=livekit_origins())` or
    `csp_allow(request, script_src=settings.STRIPE_JS_ORIGINS, frame_src=...)`."""
    extra = request.__dict__.setdefault("_csp_extra", {})
    for directive, origins in sources.items():
        extra.setdefault(directive.replace("_", "-"), []).extend(origins)


def csp_header(request: HttpRequest) -> str:
    extra = getattr(request, "_csp_extra", {})
    parts = []
    for directive, sources in _BASE.items():
        added = [s for s in extra.get(directive, []) if s not in sources]
        if added and sources == ["'none'"]:
            sources = []
        parts.append(" ".join([directive, *sources, *added]))
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", csp_header(request))
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
