"""Browser tests: Playwright (Python) driving Debian's Chromium against `callrix_server`
(real HTTP, real licensee hosts `{slug}.localhost:<port>`).

Fixtures for every browser test:
- `browser`: one headless Chromium for all browser tests (launching is the slow part).
- `open_page(slug, width=1280, height=800, language=None)`: a fresh context (own cookies)
  and page whose relative URLs go to that licensee's host; closed after the test. Each page
  collects `page.console_errors` (CSP violations show up there) and `page.failed_requests`.
- `screenshot(page, name)`: saves `test-artifacts/screenshots/<name>.png`.
- `sign_in(page, email, password=PASSWORD)`: the session sign-in form, as a person uses it.
- `web_licensees`: `aurora` (with a brand: colours, logo, legal details) and `borealis` (no
  brand), committed for the whole run and dropped at its end; each owner signs in as
  `owner@<slug>.test` with PASSWORD.
Other data a browser test needs must be committed too (the server answers on its own
connections): use the `committed` fixture and clean up.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from tests.factories import PASSWORD, licensee_destroy, licensee_make, password_hash

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


# Package scope: while Playwright runs, this thread has a running event loop, which would
# break later tests that call asyncio.run(); it stops after the last browser test.
@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium), "
            "or deselect the browser tests with -m 'not browser'."
        )
    if not (Path(settings.FRONTEND_DIST) / "app" / "site.js").exists():
        pytest.fail("The browser bundle is not built: run scripts/bootstrap dev.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django then refuses ORM calls
    # from it unless told the test thread is not really async.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--host-resolver-rules=MAP *.localhost 127.0.0.1", "--no-sandbox"],
    )
    yield chromium
    # Code run while Playwright is started has a context of its own, so Django (whose
    # connections are per context) opened other connections in it: close them here.
    connections.close_all()
    chromium.close()
    playwright.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


AURORA_BRAND = {
    "app_name": "Aurora Psychics",
    "primary_color": "#4b2a7b",
    "accent_color": "#a0306e",
    "support_email": "help@aurora.test",
    "legal_entity_name": "Aurora Psychics Ltd",
    "legal_address": "12 Starlight Lane\nLondon",
    "privacy_policy_url": "https://aurora.example/privacy",
    "terms_url": "https://aurora.example/terms",
}


@pytest.fixture(scope="session")
def web_licensees(django_db_setup, django_db_blocker):
    import io

    from PIL import Image

    from branding import services as brand_services
    from branding.selectors import brand_cache

    with django_db_blocker.unblock():
        made = {
            "aurora": licensee_make(
                slug="aurora",
                name="Aurora Psychics",
                owner_password_hash=password_hash(),
                status="active",
            ),
            "borealis": licensee_make(
                slug="borealis",
                name="Borealis Insight",
                owner_password_hash=password_hash(),
                status="active",
            ),
        }
        brand_services.brand_update(licensee=made["aurora"], **AURORA_BRAND)
        logo = io.BytesIO()
        Image.new("RGB", (320, 80), "#f5d98b").save(logo, format="PNG")
        brand_services.brand_image_set(
            licensee=made["aurora"], kind="logo", content=logo.getvalue()
        )
        connection.set_schema_to_public()
    yield made
    with django_db_blocker.unblock():
        for licensee in made.values():
            licensee_destroy(licensee)
        brand_cache.invalidate()
        connection.set_schema_to_public()


@pytest.fixture
def licensee_url(callrix_server):
    port = callrix_server.url.rsplit(":", 1)[1].rstrip("/")

    def url(slug: str, path: str = "/") -> str:
        return f"http://{slug}.localhost:{port}{path}"

    return url


@pytest.fixture
def open_page(browser, licensee_url, committed):
    """(`committed` lets the server's threads reach the database during the test.)"""
    contexts = []

    def open_(slug: str, *, width: int = 1280, height: int = 800, language: str | None = None):
        context = browser.new_context(
            base_url=licensee_url(slug),
            viewport={"width": width, "height": height},
            locale=language or "en-GB",
        )
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.failed_requests = []
        page.on(
            "console",
            lambda message: (
                page.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        # A request the next navigation cancels (say, the favicon) did not fail: it was dropped.
        page.on(
            "requestfailed",
            lambda request: (
                page.failed_requests.append(request.url)
                if request.failure != "net::ERR_ABORTED"
                else None
            ),
        )
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


@pytest.fixture
def sign_in():
    def sign_in_(page, email: str, password: str = PASSWORD, *, next_path: str = "") -> None:
        page.goto(f"/account/login/{'?next=' + next_path if next_path else ''}")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return sign_in_
