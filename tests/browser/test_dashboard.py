"""The licensee dashboard in a real browser, as Aurora's owner uses it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image

from branding import services as brand_services
from tests.browser.conftest import AURORA_BRAND
from tests.tenant_apps.calls.conftest import make_advisor, make_caller
from tests.tenant_apps.dashboard.conftest import call_played

MAIN_PAGES = [
    ("overview", "/dashboard/"),
    ("advisors", "/dashboard/advisors/"),
    ("end-users", "/dashboard/users/"),
    ("calls", "/dashboard/calls/"),
    ("payouts", "/dashboard/payouts/"),
    ("packages", "/dashboard/packages/"),
    ("billing-policy", "/dashboard/pricing/"),
    ("brand", "/dashboard/brand/"),
    ("integrations", "/dashboard/integrations/"),
    ("domains", "/dashboard/domains/"),
    ("exports", "/dashboard/exports/"),
    ("team", "/dashboard/team/"),
    ("audit", "/dashboard/audit/"),
]


class _Timer:
    def __init__(self, shift):
        self.now = timezone.now()
        self.shift = shift

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.shift.move_to(self.now)


@pytest.fixture(scope="module")
def aurora_calls(web_licensees, livekit_sandbox, django_db_blocker):
    """Two paid calls at Aurora (95 s with Luna, 120 s with Orion), played once for this
    module through the real call services; time is moved only while they are played."""
    sandbox, base_url = livekit_sandbox
    aurora = web_licensees["aurora"]
    livekit = override_settings(
        LIVEKIT_URL=base_url.replace("http://", "ws://"),
        LIVEKIT_API_KEY=sandbox.api_key,
        LIVEKIT_API_SECRET=sandbox.api_secret,
    )
    with django_db_blocker.unblock(), livekit:
        sandbox.webhook_url = None
        with schema_context("aurora"):
            connection.tenant = aurora
            luna = make_advisor("luna@aurora.test", rate=200, display_name="Luna Starling")
            orion = make_advisor("orion@aurora.test", rate=300, display_name="Orion Vale")
            casey = make_caller("casey@aurora.test", credit_minor=5_000)
        with time_machine.travel(timezone.now(), tick=False) as shift:
            timer = _Timer(shift)
            for advisor, seconds in ((luna, 95), (orion, 120)):
                call_played(
                    licensee=aurora,
                    livekit=sandbox,
                    caller=casey,
                    advisor=advisor,
                    timer=timer,
                    talk_seconds=seconds,
                )
        connection.set_schema_to_public()
    sandbox.reset()
    return {"luna": luna, "orion": orion, "casey": casey}


@pytest.fixture
def aurora_brand_kept(web_licensees, committed):
    """Put Aurora's brand back after a test that edits it."""
    yield
    aurora = web_licensees["aurora"]
    brand_services.brand_update(licensee=aurora, **AURORA_BRAND)
    logo = io.BytesIO()
    Image.new("RGB", (320, 80), "#f5d98b").save(logo, format="PNG")
    brand_services.brand_image_set(licensee=aurora, kind="logo", content=logo.getvalue())
    from branding.selectors import brand_cache

    brand_cache.invalidate()


def _png(width: int, height: int, colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def test_the_owner_runs_aurora_from_the_dashboard(
    aurora_calls, aurora_brand_kept, open_page, sign_in, screenshot, mailoutbox, tmp_path
):
    page = open_page("aurora")
    sign_in(page, "owner@aurora.test", next_path="/dashboard/")
    assert page.url.endswith("/dashboard/")

    # Overview: KPIs and three charts drawn from the two settled calls.
    assert page.locator('[data-kpi="revenue"]').inner_text() == "€9.17"
    assert page.locator('[data-kpi="calls"]').inner_text() == "2"
    page.wait_for_selector('canvas[data-chart][data-chart-ready="true"] >> nth=2')
    assert page.locator("canvas[data-chart-ready='true']").count() == 3
    assert "Orion Vale" in page.locator("main table").first.inner_text()
    screenshot(page, "dashboard-overview")

    # Brand: the preview follows the colour at once; saved, every page wears it.
    page.get_by_role("link", name="Brand").click()
    page.get_by_label("Primary colour").fill("#0b5d1e")
    preview = page.locator("#brand-preview .preview-header")
    assert preview.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 93, 30)"
    page.get_by_role("button", name="Save brand").click()
    assert "The brand is saved" in page.locator("main").inner_text()
    header = page.locator(".site-header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 93, 30)"
    page.get_by_label("Image").select_option("logo")
    page.get_by_label("File").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": _png(400, 120, "#ffffff")}
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_function(
        "() => document.querySelector('.site-header .brand img').naturalWidth === 400"
    )
    screenshot(page, "dashboard-brand")

    # Invite an advisor.
    page.get_by_role("link", name="Advisors").click()
    page.get_by_role("textbox", name="E-mail").fill("nova@aurora.test")
    page.get_by_role("textbox", name="Name").fill("Nova Bright")
    page.get_by_label("Rate per minute").fill("2.40")
    page.get_by_role("button", name="Send invitation").click()
    assert "Invitation sent to nova@aurora.test" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Nova Bright").is_visible()
    assert any(m.to == ["nova@aurora.test"] for m in mailoutbox)

    # Download the advisor list as CSV.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    target = tmp_path / "advisors.csv"
    download_info.value.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("id,name,email,status")
    assert "Nova Bright,nova@aurora.test" in text

    # Grant credit to the caller, found by search.
    page.get_by_role("link", name="End users").click()
    page.get_by_label("Search by name or e-mail").fill("casey@aurora")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Casey").click()
    before = page.locator('[data-kpi="available"]').inner_text()
    page.get_by_label("Amount", exact=True).fill("5")
    page.get_by_label("Reason").first.fill("Welcome back")
    page.get_by_role("button", name="Grant credit").click()
    assert "€5.00 credit granted" in page.locator("main").inner_text()
    assert page.locator('[data-kpi="available"]').inner_text() != before

    # Ask for an export of all data.
    page.get_by_role("link", name="Data exports").click()
    page.get_by_role("button", name="Export all data").click()
    assert "The export is being prepared" in page.locator("main").inner_text()
    assert page.locator("[data-export-status]").first.inner_text() in ("queued", "running", "ready")

    # Every main page, screenshotted; nothing the CSP blocked, no failed request.
    for name, path in MAIN_PAGES:
        page.goto(path)
        assert page.locator("h1").is_visible(), path
        screenshot(page, f"dashboard-{name}")
    assert page.console_errors == [] and page.failed_requests == []
    page.goto("/dashboard/audit/")
    audit = page.locator("main table").inner_text()
    for action in (
        "brand.update",
        "brand.image",
        "advisor.invite",
        "user.credit",
        "export.request",
    ):
        assert action in audit


def test_the_dashboard_fits_a_375_px_screen(aurora_calls, open_page, sign_in, screenshot):
    page = open_page("aurora", width=375, height=812)
    sign_in(page, "owner@aurora.test", next_path="/dashboard/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "dashboard-overview-375px")


def test_auroras_dashboard_never_shows_another_licensees_data_or_brand(
    aurora_calls, web_licensees, open_page, sign_in
):
    with schema_context("borealis"):
        make_advisor("polaris@borealis.test", display_name="Polaris North")
    connection.set_schema_to_public()
    page = open_page("aurora")
    sign_in(page, "owner@aurora.test", next_path="/dashboard/advisors/")
    html = page.content()
    assert "Polaris North" not in html and "Borealis" not in html
    # The same browser on borealis's host has no session there.
    page.goto(page.url.replace("aurora.localhost", "borealis.localhost"))
    assert "/account/login/" in page.url
    assert "Aurora" not in page.content()
    borealis = open_page("borealis")
    sign_in(borealis, "owner@borealis.test", next_path="/dashboard/advisors/")
    assert "Polaris North" in borealis.content()
    assert "Luna Starling" not in borealis.content() and "Aurora" not in borealis.content()


@pytest.mark.parametrize("email", ["luna@aurora.test", "casey@aurora.test"])
def test_advisors_and_end_users_cannot_open_the_dashboard(aurora_calls, open_page, sign_in, email):
    page = open_page("aurora")
    sign_in(page, email)
    response = page.goto("/dashboard/")
    assert response.status == 403
    assert "for the platform's owner and admins only" in page.locator("main").inner_text()
