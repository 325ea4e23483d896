"""The end users' web app and the advisors' console in Chromium, end to end against the
offline sandboxes: a caller registers, tops up through the Stripe sandbox, favourites an
advisor and calls them; the advisor accepts in the console (a second browser context); the
LiveKit sandbox plays the call through signed webhooks; a real dramatiq worker bills it.

Talk time is made quickly by moving the clock of this process (server threads, worker and
sandboxes all read it); Chromium's clock is untouched, and the pages only show the server's
numbers. Everything runs in a licensee committed for this module and dropped afterwards."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import dramatiq
import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import tenant_context
from dramatiq import Worker

from branding import services as brand_services
from branding.selectors import brand_cache
from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call
from tenant_apps.payments import services as payment_services
from tests.factories import PASSWORD, licensee_destroy, licensee_make, password_hash, worker_stop
from tests.tenant_apps.calls.conftest import credit

SLUG = "lumen"
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def lumen(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        licensee = licensee_make(
            slug=SLUG, name="Lumen Readings", owner_password_hash=password_hash(), status="active"
        )
        brand_services.brand_update(
            licensee=licensee,
            app_name="Lumen Readings",
            primary_color="#2b4a6f",
            accent_color="#8a2d5c",
            support_email="help@lumen.test",
            legal_entity_name="Lumen Readings GmbH",
        )
        with tenant_context(licensee):
            payment_services.topup_package_create(
                code="starter", name="Starter", amount_minor=2_000, bonus_minor=200
            )
        connection.set_schema_to_public()
        # Module fixtures can run in another async context than the tests (Playwright's
        # greenlet), with a connection of their own: close it, or it outlives the run and
        # the test database cannot be dropped.
        connections.close_all()
    yield licensee
    with django_db_blocker.unblock():
        licensee_destroy(licensee)
        brand_cache.invalidate()
        connection.set_schema_to_public()
        connections.close_all()


@pytest.fixture
def offline(lumen, stripe, livekit, callrix_server, committed):
    """The licensee connected to the Stripe sandbox, LiveKit's webhooks coming in, and a
    real worker running the jobs (webhooks, billing ticks)."""
    creds = stripe.create_account(
        webhook_url=f"{callrix_server.url}/webhooks/stripe",
        webhook_host=f"{SLUG}.localhost",
        display_name="Lumen Readings",
    )
    with tenant_context(lumen):
        payment_services.stripe_connect(
            secret_key=creds["secret_key"],
            publishable_key=creds["publishable_key"],
            webhook_secret=creds["webhook_secret"],
            admin=User.objects.get(role="owner"),
        )
    livekit.webhook_url = f"{callrix_server.url}/webhooks/livekit"
    livekit.webhook_host = "localhost"  # LiveKit's webhooks go to the public host
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    connection.set_schema_to_public()
    yield livekit
    worker_stop(worker)
    connection.set_schema_to_public()


def _advisor(lumen, email: str, name: str, rate: int = 200) -> Advisor:
    with tenant_context(lumen):
        user = User.objects.create(
            email=email, role="advisor", password=password_hash(), display_name=name
        )
        advisor = Advisor.objects.create(
            user=user,
            display_name=name,
            headline="Tarot and clarity",
            rate_minor_per_minute=rate,
            status=Advisor.Status.ONLINE,
            categories=["tarot"],
            languages=["en"],
        )
    connection.set_schema_to_public()
    return advisor


def _call(lumen, **filters) -> Call | None:
    with tenant_context(lumen):
        call = Call.objects.filter(**filters).order_by("-id").first()
    connection.set_schema_to_public()
    return call


def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _talking(lumen, call_id: int) -> bool:
    call = _call(lumen, pk=call_id)
    return call is not None and call.segment_started_at is not None


def _talked_for(lumen, call_id: int, seconds: float) -> bool:
    call = _call(lumen, pk=call_id)
    started = call.segment_started_at if call is not None else None
    return started is not None and (timezone.now() - started).total_seconds() >= seconds


def test_a_new_caller_tops_up_favourites_calls_and_rates_an_advisor_who_accepts_in_the_console(
    lumen, offline, open_page, sign_in, screenshot
):
    luna = _advisor(lumen, "luna@lumen.test", "Luna Starling")

    caller = open_page(SLUG, **PHONE)
    caller.goto("/")
    assert caller.title() == "Advisors · Lumen Readings"
    assert "Callrix" not in caller.content()
    screenshot(caller, "app-directory-375")

    caller.get_by_role("link", name="Register").click()
    caller.get_by_label("Your name").fill("Nova Quinn")
    caller.get_by_label("E-mail", exact=True).fill("nova@lumen.test")
    caller.get_by_label("Password", exact=True).fill(PASSWORD)
    caller.get_by_label("Date of birth").fill("1991-05-17")
    screenshot(caller, "app-register-375")
    caller.get_by_role("button", name="Create account").click()
    caller.wait_for_url("**/wallet/")
    assert caller.get_by_test_id("balance").inner_text() == "€0.00"

    # Top-up through the Stripe sandbox: its signed webhook credits the wallet via the worker.
    caller.get_by_role("button", name="Continue to payment").click()
    caller.get_by_role("button", name="Pay with test card 4242").click()
    caller.get_by_text("Your credit was added.").wait_for(timeout=30_000)
    assert caller.get_by_test_id("balance").inner_text() == "€22.00"
    caller.reload()
    assert caller.get_by_test_id("balance").inner_text() == "€22.00"
    screenshot(caller, "app-wallet-375")

    caller.goto("/")
    caller.get_by_role("button", name="Add Luna Starling to favorites").click()
    caller.get_by_role("button", name="Remove Luna Starling from favorites").wait_for()
    caller.get_by_role("link", name="Favorites").click()
    assert "Luna Starling" in caller.locator("main").inner_text()
    screenshot(caller, "app-favorites-375")

    advisor = open_page(SLUG)
    sign_in(advisor, "luna@lumen.test")
    advisor.wait_for_url("**/advisor/")
    screenshot(advisor, "console")

    caller.goto(f"/advisors/{luna.pk}/")
    assert caller.get_by_test_id("rate").inner_text() == "€2.00 per minute"
    screenshot(caller, "app-advisor-375")
    caller.get_by_role("button", name="Call Luna Starling now").click()
    caller.wait_for_url(re.compile(r"/calls/\d+/$"))
    call_id = int(caller.url.rstrip("/").rsplit("/", 1)[1])
    caller.get_by_text("Ringing… waiting for the advisor to answer.").wait_for()

    # The console rings; the advisor accepts and lands on the call screen.
    alert = advisor.locator("#incoming")
    alert.get_by_text("Incoming call from Nova Quinn").wait_for(timeout=10_000)
    screenshot(advisor, "console-incoming")
    alert.get_by_role("button", name="Accept").click()
    advisor.wait_for_url(f"**/calls/{call_id}/")

    # Both screens join the sandbox room by themselves; its webhooks start the talk.
    assert _wait(lambda: _talking(lumen, call_id)), "both parties joined"
    caller.locator("[data-call-status]").get_by_text("Connected.").wait_for()
    caller.get_by_text("Demo call").wait_for()
    mute = caller.get_by_role("button", name="Mute")
    mute.click()
    unmute = caller.get_by_role("button", name="Unmute")
    assert unmute.get_attribute("aria-pressed") == "true"
    unmute.click()

    # Leaving for a moment closes the talk segment; rejoining opens the next one. LiveKit
    # stamps events in whole seconds and a leave in the second of the join reads as a rejoin
    # (calls.services.rooms.presence_replay); a person leaves later than that.
    assert _wait(lambda: _talked_for(lumen, call_id, seconds=1.05)), "a second of talk"
    caller.get_by_role("button", name="Leave for a moment").click()
    caller.get_by_text("You left the call. You can rejoin while it lasts.").wait_for()
    assert _wait(lambda: not _talking(lumen, call_id)), "the caller's leaving reached the server"
    caller.get_by_role("button", name="Rejoin").click()
    caller.locator("[data-call-status]").get_by_text("Connected.").wait_for()
    assert _wait(lambda: _talking(lumen, call_id)), "talking again after the rejoin"

    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=90), tick=True):
        caller.locator("[data-meter-seconds]").get_by_text(re.compile(r"^1:3\d$")).wait_for()
        screenshot(caller, "app-call-live-375")
        caller.get_by_role("button", name="Hang up").click()
        caller.get_by_role("heading", name="Receipt").wait_for(timeout=15_000)
    settled = _call(lumen, pk=call_id)
    assert settled.status == "completed" and settled.settled_at is not None
    assert 90 <= settled.talk_seconds <= 95
    amount = caller.get_by_test_id("receipt-amount").inner_text()
    assert amount == f"€{settled.cost_minor / 100:.2f}"

    caller.get_by_label("4 ★").check()
    caller.get_by_label("Comment (optional)").fill("Kind and clear.")
    caller.get_by_role("button", name="Send rating").click()
    caller.get_by_text("You rated this call 4 / 5.").wait_for()
    screenshot(caller, "app-call-receipt-375")

    # The wallet shows the call as one line with its cost, linked to its receipt.
    caller.goto("/wallet/")
    calls = caller.locator('[data-wallet-line="call"]')
    assert calls.count() == 1
    cost = f"-€{settled.cost_minor / 100:.2f}"
    assert re.fullmatch(
        rf".*Call with Luna Starling, 1 min 3\d s\s+{re.escape(cost)}",
        calls.inner_text().strip(),
        re.S,
    ), calls.inner_text()
    assert calls.get_by_role("link").get_attribute("href") == f"/calls/{call_id}/"
    screenshot(caller, "app-wallet-history-375")

    caller.goto("/calls/")
    assert "4 / 5" in caller.locator("table").inner_text()
    limit = caller.get_by_label("Limit per month (leave empty for none)")
    limit.fill("lots")
    caller.get_by_role("button", name="Save limit").click()
    caller.get_by_text("Please check the highlighted field.").wait_for()
    assert limit.get_attribute("aria-invalid") == "true"
    limit.fill("50")
    caller.get_by_role("button", name="Save limit").click()
    caller.get_by_text("Your limit is €50.00 a month.").wait_for()
    screenshot(caller, "app-calls-375")
    advisor.get_by_role("heading", name="Receipt").wait_for(timeout=15_000)
    assert "Your share" in advisor.locator(".receipt").inner_text()
    caller.goto(f"/advisors/{luna.pk}/")
    assert "Kind and clear." in caller.locator("main").inner_text()

    # Back in the console: availability, rate, and the way to Stripe's onboarding.
    advisor.goto("/advisor/")
    advisor.get_by_role("button", name="Go offline").click()
    advisor.get_by_role("button", name="Go online").wait_for()
    assert advisor.locator(".presence").first.inner_text() == "Offline"
    advisor.get_by_role("button", name="Go online").click()
    advisor.get_by_role("button", name="Go offline").wait_for()
    advisor.get_by_label("Rate per minute (EUR)", exact=True).fill("2.50")
    advisor.get_by_role("button", name="Save profile").click()
    advisor.wait_for_load_state()
    rate = advisor.get_by_label("Rate per minute (EUR)", exact=True)
    rate.and_(advisor.locator('[value="2.50"]')).wait_for()
    caller.reload()
    assert caller.get_by_test_id("rate").inner_text() == "€2.50 per minute"
    for page in (caller, advisor):
        assert page.console_errors == [], page.console_errors
    advisor.get_by_role("button", name="Set up payouts").click()
    advisor.wait_for_url(re.compile(r"/_sandbox/onboarding/acct_\w+"))


def test_running_out_of_credit_mid_call_warns_the_caller_and_ends_the_call(
    lumen, offline, open_page, sign_in, screenshot
):
    orion = _advisor(lumen, "orion@lumen.test", "Orion Vale")
    with tenant_context(lumen):
        user = User.objects.create(
            email="sam@lumen.test", role="end_user", password=password_hash(), display_name="Sam"
        )
        credit(user.pk, 400)  # exactly the 2-minute minimum at €2.00 a minute
    connection.set_schema_to_public()

    caller = open_page(SLUG, **PHONE)
    sign_in(caller, "sam@lumen.test")
    caller.goto(f"/advisors/{orion.pk}/")
    caller.get_by_role("button", name="Call Orion Vale now").click()
    caller.wait_for_url(re.compile(r"/calls/\d+/$"))
    call_id = int(caller.url.rstrip("/").rsplit("/", 1)[1])

    advisor = open_page(SLUG)
    sign_in(advisor, "orion@lumen.test")
    advisor.locator("#incoming").get_by_role("button", name="Accept").click()
    advisor.wait_for_url(f"**/calls/{call_id}/")
    assert _wait(lambda: _talking(lumen, call_id))

    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=70), tick=True) as clock:
        warning = caller.locator("[data-low-funds]")
        warning.wait_for(state="visible", timeout=30_000)
        assert "running out" in warning.inner_text()
        screenshot(caller, "app-call-low-funds-375")
        clock.move_to(start + timedelta(seconds=130))
        caller.get_by_role("heading", name="Receipt").wait_for(timeout=30_000)
    ended = _call(lumen, pk=call_id)
    assert ended.status == "completed" and ended.end_reason == "funds_exhausted"
    assert ended.talk_seconds == 120 and ended.cost_minor == 400
    assert "Your credit ran out." in caller.locator(".receipt").inner_text()
    with tenant_context(lumen):
        from tenant_apps.wallets.selectors import wallet_balance_get

        balance = wallet_balance_get(user_id=user.pk)
    connection.set_schema_to_public()
    assert balance.available_minor == 0 and balance.held_minor == 0
    assert offline.participants(ended.room_name) is None, "the room was closed"


def test_the_privacy_centre_downloads_the_data_and_deletes_the_account(
    lumen, open_page, sign_in, screenshot, committed
):
    with tenant_context(lumen):
        User.objects.create(
            email="rowan@lumen.test",
            role="end_user",
            password=password_hash(),
            display_name="Rowan",
        )
    connection.set_schema_to_public()
    page = open_page(SLUG, **PHONE)
    sign_in(page, "rowan@lumen.test")
    page.get_by_role("link", name="Privacy").click()
    screenshot(page, "app-privacy-375")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    exported = json.loads(open(download.value.path()).read())
    assert "rowan@lumen.test" in json.dumps(exported)

    page.get_by_label("Send me offers and news by e-mail").check()
    page.get_by_role("button", name="Save choices").click()
    page.get_by_text("agreed to offers and news").wait_for()

    page.get_by_label("Your password, to confirm").fill("not-my-password")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete my account").click()
    page.locator(".danger-zone [role=alert]").get_by_text(re.compile(".+")).wait_for()
    assert page.url.endswith("/privacy/")

    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url("**/account/closed/")
    assert "Your account is closed" in page.locator("h1").inner_text()
    page.goto("/wallet/")
    assert "/account/login/" in page.url
    with tenant_context(lumen):
        assert not User.objects.filter(email="rowan@lumen.test").exists()
    connection.set_schema_to_public()
    sign_in(page, "rowan@lumen.test")
    assert "/account/login/" in page.url, "the old password opens nothing"


def test_an_aurora_session_never_opens_borealis_pages_as_signed_in(
    web_licensees, open_page, sign_in, licensee_url
):
    page = open_page("aurora")
    sign_in(page, "owner@aurora.test")
    assert page.get_by_role("button", name="Sign out").count() == 1
    session = next(c for c in page.context.cookies() if c["name"] == "sessionid")

    def replay_on_borealis() -> None:
        page.context.add_cookies(
            [{"name": "sessionid", "value": session["value"], "url": licensee_url("borealis")}]
        )

    # The same browser, and even aurora's session cookie replayed on borealis's host.
    replay_on_borealis()
    page.goto(licensee_url("borealis", "/"))
    assert page.title().endswith("· Borealis Insight")
    assert "Aurora" not in page.content()
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert page.get_by_role("link", name="Sign in").count() == 1
    replay_on_borealis()
    page.goto(licensee_url("borealis", "/privacy/"))
    assert "/account/login/" in page.url
    replay_on_borealis()
    status = page.evaluate("fetch('/api/v1/me').then(response => response.status)")
    assert status == 401
    page.goto(licensee_url("aurora", "/"))
    assert page.get_by_role("button", name="Sign out").count() == 1, "still signed in at aurora"
