"""Callrix's own website analytics: a self-hosted Matomo (privacy policy §5 and §9), run
without cookies and never for a visitor who asks not to be tracked (`DNT: 1`).

Only on the public host — Callrix's website, where Callrix is the controller. A licensee's
hosts serve the licensee's end users, whose controller is the licensee: Callrix has no
purpose or legal basis to measure them for itself, so no snippet is rendered there at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class MatomoSnippet:
    url: str  # the Matomo base URL, ending in "/"
    site_id: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


def matomo_configured() -> MatomoSnippet | None:
    """From MATOMO_URL and MATOMO_SITE_ID, read at call time; None unless both are set."""
    url = (getattr(settings, "MATOMO_URL", "") or "").strip()
    site_id = str(getattr(settings, "MATOMO_SITE_ID", "") or "").strip()
    if not url or not site_id:
        return None
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return MatomoSnippet(url=url.rstrip("/") + "/", site_id=site_id)


def do_not_track(request: HttpRequest) -> bool:
    return request.headers.get("DNT", "").strip() == "1"


def _on_public_host(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name == "public"


def matomo_for(request: HttpRequest) -> MatomoSnippet | None:
    """The snippet to render for this request, or None (not configured, not Callrix's own
    website, or the visitor sent `DNT: 1`)."""
    if not _on_public_host(request) or do_not_track(request):
        return None
    return matomo_configured()


def analytics(request: HttpRequest) -> dict:
    """Template context processor: `matomo` for `website/analytics.html`."""
    return {"matomo": matomo_for(request)}


def content_security_policy(request: HttpRequest, base: str) -> str:
    """`base` with the Matomo origin allowed for its script, its tracking requests and its
    pixel — only when the snippet is rendered for this request."""
    snippet = matomo_for(request)
    if snippet is None:
        return base
    origin = snippet.origin
    return f"{base}; script-src 'self' {origin}; connect-src {origin}; img-src {origin}"


def matomo_csp_allow(request: HttpRequest) -> None:
    """For pages whose CSP comes from kernel.security's middleware: allow the Matomo origin
    when (and only when) the snippet is rendered for this request."""
    from kernel.security import csp_allow

    snippet = matomo_for(request)
    if snippet is not None:
        origin = snippet.origin
        csp_allow(request, script_src=[origin], connect_src=[origin], img_src=[origin])
