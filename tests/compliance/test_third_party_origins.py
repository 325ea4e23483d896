"""Every HTML page the project serves, on the public host and on a licensee's, loads and links
nothing from another origin but Callrix's own self-hosted Matomo — and that only on Callrix's
website, when configured, and not at all for a visitor who sends `DNT: 1`. Cookies are
first-party and only the session's and CSRF's (privacy policy §9)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

MATOMO = "https://stats.callrix.example"
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "data", "poster", "background"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")\s]+)")
ABSOLUTE_URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+(?::\d+)?")
ALLOWED_COOKIES = {"sessionid", "csrftoken"}


def static_paths(urlconf: str) -> list[str]:
    """Every route of a URLconf without parameters, e.g. `/admin/login/`."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if route.startswith("^"):
                route = route[1:].removesuffix("$").replace("\\Z", "")
            if re.search(r"[<>()\[\]\\?*+|^$]", route):
                continue  # has parameters
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern):
                found.append("/" + prefix + route)

    walk(get_resolver(urlconf).url_patterns, "")
    return sorted(set(found))


class _Links(HTMLParser):
    """URLs a browser would fetch or follow: URL attributes, `url()` in styles, and absolute
    URLs in inline scripts (which could load anything)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self._inside: str | None = None

    def handle_starttag(self, tag, attrs):
        self._inside = tag if tag in ("style", "script") else None
        for name, value in attrs:
            if not value:
                continue
            if name in URL_ATTRIBUTES or (name.startswith("data-") and "//" in value):
                self.urls.extend(part.split()[0] for part in value.split(",") if part.strip())
            if name == "style":
                self.urls.extend(CSS_URL.findall(value))

    def handle_endtag(self, tag):
        self._inside = None

    def handle_data(self, data):
        if self._inside == "style":
            self.urls.extend(CSS_URL.findall(data))
        elif self._inside == "script":
            self.urls.extend(ABSOLUTE_URL.findall(data))


def foreign_origins(html: str, host: str) -> set[str]:
    parser = _Links()
    parser.feed(html)
    origins = set()
    for url in parser.urls:
        parts = urlsplit(url if "//" in url else url.strip())
        if parts.scheme not in ("", "http", "https") or not parts.netloc:
            continue  # relative, mailto:, data: …
        if parts.netloc != host:
            origins.add(f"{parts.scheme or 'https'}://{parts.netloc}")
    return origins


@pytest.fixture
def clients(host_client, make_user, alpha):
    """Anonymous and signed-in browsers for the public host and a licensee's."""
    make_user("public", "staff@callrix.test", role="staff", is_staff=True, is_superuser=True)
    make_user("alpha", "admin@alpha.test", role="admin")
    staff = host_client("localhost")
    signed_in = staff.post(
        "/admin/login/", {"username": "staff@callrix.test", "password": PASSWORD}
    )
    admin = host_client("alpha.localhost")
    admin_signed_in = admin.post(
        "/account/login/", {"username": "admin@alpha.test", "password": PASSWORD}
    )
    for response in (signed_in, admin_signed_in):
        assert response.status_code == 302
        assert set(response.cookies) <= ALLOWED_COOKIES  # signing in sets the session only
    return {
        "localhost": [host_client("localhost"), staff],
        "alpha.localhost": [host_client("alpha.localhost"), admin],
    }


def crawl(clients, **headers) -> dict[tuple[str, str], object]:
    """GET every parameter-less route on both hosts, anonymously and signed in; the HTML
    pages that answered 200, by (host, path)."""
    pages = {}
    routes = {
        "localhost": static_paths("callrix.urls_public"),
        "alpha.localhost": static_paths("callrix.urls_tenant"),
    }
    for host, paths in routes.items():
        for client in clients[host]:
            for path in paths:
                if "logout" in path or path.endswith("/autocomplete/"):
                    # Logging out would end the session the next pages need; the admin's
                    # autocomplete is JSON that needs query parameters.
                    continue
                response = client.get(path, **headers)
                if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                    pages[(host, path)] = response
    return pages


def _check(pages, allowed: set[str]) -> None:
    for (host, path), response in pages.items():
        html = response.content.decode()
        assert foreign_origins(html, host) <= allowed, (host, path)
        for cookie in response.cookies.values():
            assert cookie.key in ALLOWED_COOKIES, (host, path, cookie.key)
            assert not cookie["domain"], (host, path, cookie.key)  # this host's own


def test_the_crawl_reaches_the_html_pages_of_both_hosts(clients):
    pages = crawl(clients)
    for expected in [
        ("localhost", "/privacy/register"),
        ("localhost", "/admin/login/"),
        ("localhost", "/admin/"),
        ("localhost", "/admin/billing/invoice/"),
        ("localhost", "/api/platform/v1/docs"),
        ("alpha.localhost", "/account/login/"),
        ("alpha.localhost", "/account/"),
        ("alpha.localhost", "/api/v1/docs"),
    ]:
        assert expected in pages, expected


def test_no_page_loads_anything_from_another_origin_without_analytics(clients, settings):
    settings.MATOMO_URL = ""
    _check(crawl(clients), allowed=set())


def test_only_the_configured_matomo_is_allowed_and_only_on_callrix_website(clients, settings):
    settings.MATOMO_URL = f"{MATOMO}/"
    settings.MATOMO_SITE_ID = "3"
    pages = crawl(clients)

    _check(pages, allowed={MATOMO})
    register = pages[("localhost", "/privacy/register")]
    html = register.content.decode()
    assert f'data-matomo-url="{MATOMO}/"' in html and 'data-matomo-site-id="3"' in html
    assert f"script-src 'self' {MATOMO}" in register["Content-Security-Policy"]
    assert "DNT" in register["Vary"]
    # A licensee's pages serve its end users (the licensee is their controller): no snippet.
    for (host, path), response in pages.items():
        if host == "alpha.localhost":
            assert "data-matomo" not in response.content.decode(), path


def test_a_visitor_sending_dnt_gets_no_analytics_at_all(clients, settings):
    settings.MATOMO_URL = f"{MATOMO}/"
    settings.MATOMO_SITE_ID = "3"
    pages = crawl(clients, HTTP_DNT="1")

    _check(pages, allowed=set())
    for response in pages.values():
        assert "data-matomo" not in response.content.decode()
    register = pages[("localhost", "/privacy/register")]
    assert MATOMO not in register["Content-Security-Policy"]


def test_a_half_configured_matomo_renders_nothing(clients, settings):
    settings.MATOMO_URL = f"{MATOMO}/"
    settings.MATOMO_SITE_ID = ""
    page = clients["localhost"][0].get("/privacy/register").content.decode()
    assert "data-matomo" not in page
