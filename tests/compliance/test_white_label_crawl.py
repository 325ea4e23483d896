"""Nothing of Callrix on a licensee's side: a crawler signs in as each of a licensee's people
(owner, admin, advisor, end user, and a visitor), follows every same-host link, form action,
script, stylesheet and image from their start pages, in English and German, and reads every
page, CSV download, manifest, script and stylesheet bundle (with their source maps and
legal-comment files), API document (OpenAPI, the docs page, app-config) and header; the
e-mails the licensee's people get are read too. "callrix" anywhere — text, markup, URLs,
headers, senders — fails, naming where."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from branding import services as brand_services
from branding.selectors import brand_cache
from identity import services as identity_services
from identity.models import User
from tests.factories import PASSWORD, password_hash
from tests.tenant_apps.calls.conftest import credit, make_advisor

pytestmark = pytest.mark.django_db

HOST = "alpha.localhost"
LEAK = re.compile("callrix", re.I)
START = [
    "/",
    "/account/login/",
    "/account/register/",
    "/account/",
    "/dashboard/",
    "/advisor/",
    "/wallet/",
    "/calls/",
    "/favorites/",
    "/privacy/",
    "/manifest.webmanifest",
    "/brand/theme.css",
    "/api/v1/docs",
    "/api/v1/openapi.json",
    "/api/v1/app-config",
    "/api/v1/health",
]
# Read as text; images are only checked by their URLs. Scripts and stylesheets are read whole
# (a string in the bundle, such as a LiveKit data topic, reaches the licensee's browsers).
TEXT_TYPES = (
    "text/html",
    "application/json",
    "text/css",
    "text/csv",
    "application/manifest",
    "text/javascript",
    "application/javascript",
    "text/plain",
)
BUNDLE = re.compile(r"^/static/.+\.(?:js|css)$")
NEVER_GET = ("/account/logout/", "/i18n/setlang/")
MAX_PAGES = 190  # the bundle files come on top of the pages


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "src", "action", "data-api-url", "content"):
                self.urls.append(value)


def _same_host(url: str, base: str) -> str | None:
    absolute = urljoin(f"http://{HOST}{base}", url)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or parts.hostname != HOST:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if path.startswith(NEVER_GET) or "{" in path:
        return None
    return path


def _bundle_files() -> list[str]:
    """Every file of the browser bundle (frontend/dist/app/, served at /static/app/ on every
    host): the scripts and stylesheets, their source maps and legal-comment files, whether or
    not a crawled page links them (the call screen's script needs a call)."""
    folder = settings.FRONTEND_DIST / "app"
    return sorted(f"/static/app/{path.name}" for path in folder.iterdir() if path.is_file())


def _crawl(client: Client, leaks: list[str], who: str, scripts: set[str]) -> int:
    seen: set[str] = set()
    queue = deque([*START, *_bundle_files()])
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        headers = "\n".join(
            f"{name}: {value}" for name, value in response.headers.items() if name != "Set-Cookie"
        )
        if LEAK.search(headers):
            leaks.append(f"{who} {path}: header {LEAK.search(headers).group(0)!r} in {headers}")
        kind = response.headers.get("Content-Type", "")
        if response.status_code != 200 or not kind.startswith(TEXT_TYPES):
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        for match in LEAK.finditer(text):
            leaks.append(f"{who} {path}: …{text[max(0, match.start() - 60) : match.end() + 60]}…")
        if BUNDLE.match(path):
            scripts.add(path)
        if kind.startswith("text/html"):
            parser = _Links()
            parser.feed(text)
            for url in parser.urls:
                if LEAK.search(url):
                    leaks.append(f"{who} {path}: URL {url}")
                found = _same_host(url, path)
                if found and found not in seen:
                    queue.append(found)
                    if found.rstrip("/").endswith(("/users", "/calls", "/payouts", "/advisors")):
                        queue.append(f"{found}?format=csv")
    return len(seen)


@pytest.fixture
def people(alpha, make_user):
    brand_services.brand_update(
        licensee=alpha,
        app_name="Alpha Oracles",
        support_email="help@alpha.test",
        legal_entity_name="Alpha Oracles Ltd",
        privacy_policy_url="https://alpha.example/privacy",
    )
    brand_cache.invalidate()
    with schema_context("alpha"):
        connection.tenant = alpha
        User.objects.filter(role="owner").update(password=password_hash())
        make_user("alpha", "crawl-admin@alpha.test", role="admin")
        advisor = make_advisor("crawl-advisor@alpha.test", display_name="Luna Starling")
        caller = make_user("alpha", "crawl-caller@alpha.test")
        credit(caller.pk, 2_000, key="crawl")
    connection.set_schema_to_public()
    return {"advisor": advisor, "caller": caller}


def _signed_in(email: str | None, language: str) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if email:
        response = client.post("/account/login/", {"username": email, "password": PASSWORD})
        assert response.status_code == 302, (email, response.status_code)
    return client


@pytest.mark.parametrize("language", ["en", "de"])
def test_no_page_or_api_document_of_a_licensee_says_callrix(people, language):
    leaks: list[str] = []
    scripts: set[str] = set()
    crawled = 0
    for who in (
        None,
        "owner@alpha.test",
        "crawl-admin@alpha.test",
        "crawl-advisor@alpha.test",
        "crawl-caller@alpha.test",
    ):
        crawled += _crawl(_signed_in(who, language), leaks, who or "visitor", scripts)
        connection.set_schema_to_public()
    assert crawled > 60, "the crawler reached the licensee's pages"
    # The bundles were read, not just named: the call screen's too.
    assert {"/static/app/app.js", "/static/app/app.css", "/static/app/call.js"} <= scripts, sorted(
        scripts
    )
    assert not leaks, "\n".join(leaks[:40])


def test_no_email_to_a_licensees_people_says_callrix(
    people, alpha, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    origin = f"http://{HOST}:8000"
    with schema_context("alpha"), django_capture_on_commit_callbacks(execute=True):
        connection.tenant = alpha
        identity_services.password_reset_request(email="crawl-caller@alpha.test", origin=origin)
        identity_services.email_verification_send(user=people["caller"], origin=origin)
        owner = User.objects.get(role="owner")
        identity_services.admin_invite(
            email="crawl-new-admin@alpha.test",
            display_name="New Admin",
            invited_by=owner,
            origin=origin,
        )
    connection.set_schema_to_public()
    assert len(mail.outbox) >= 3
    for message in mail.outbox:
        whole = message.message().as_string()
        html = "".join(str(content) for content, _type in getattr(message, "alternatives", []))
        assert not LEAK.search(whole + html), (message.subject, LEAK.search(whole + html))
        assert message.from_email == "Alpha Oracles <no-reply@alpha.localhost>"
