"""The licensee's brand in a real browser: colours, logo, language, small screens, CSP."""

from __future__ import annotations

from tests.browser.conftest import AURORA_BRAND


def _rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def test_the_owner_signs_in_on_a_page_in_the_licensee_brand(
    web_licensees, open_page, sign_in, screenshot
):
    page = open_page("aurora")
    page.goto("/account/login/")
    assert page.title() == "Sign in · Aurora Psychics"
    header = page.locator(".site-header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == _rgb(
        AURORA_BRAND["primary_color"]
    )
    logo = page.get_by_role("img", name="Aurora Psychics")
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 320
    footer = page.locator(".site-footer").inner_text()
    assert "Aurora Psychics Ltd" in footer and "Privacy policy" in footer
    screenshot(page, "brand-sign-in")

    sign_in(page, "owner@aurora.test")
    assert page.url.endswith("/dashboard/"), "the owner lands on the dashboard"
    page.goto("/account/")
    assert "Signed in as" in page.locator("main").inner_text()
    assert "Callrix" not in page.content()
    assert page.console_errors == [] and page.failed_requests == []


def test_a_person_switches_to_german_and_back(web_licensees, open_page):
    page = open_page("aurora")
    page.goto("/account/login/")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Anmelden").is_visible()
    page.get_by_label("Sprache").select_option("en")
    page.get_by_role("button", name="Wechseln").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Sign in").is_visible()


def test_pages_fit_a_375_px_screen_and_keyboard_users_can_skip_to_content(
    web_licensees, open_page, screenshot
):
    page = open_page("aurora", width=375, height=812)
    page.goto("/account/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("e => e === document.activeElement")
    assert skip.bounding_box()["y"] >= 0  # shown once focused
    screenshot(page, "brand-sign-in-375px")


def test_another_licensee_shows_its_own_name_and_never_aurora(web_licensees, open_page):
    page = open_page("borealis")
    page.goto("/account/login/")
    assert page.title() == "Sign in · Borealis Insight"
    html = page.content()
    assert "Aurora" not in html and "Callrix" not in html
    assert page.evaluate("fetch('/brand/logo.png').then(r => r.status)") == 404
