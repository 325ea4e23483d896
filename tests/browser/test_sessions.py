"""Chat, video and the queue in Chromium, end to end against the offline sandboxes: a chat
with messages both ways (typing and read state), the video call screen, and a queued caller
offered the session when the advisor's call ends. Screenshots of each new screen."""

from __future__ import annotations

import re
import time

import dramatiq
import pytest
from django.db import connection, connections
from django_tenants.utils import tenant_context
from dramatiq import Worker

from branding import services as brand_services
from branding.selectors import brand_cache
from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call, ChatMessage
from tests.factories import licensee_destroy, licensee_make, password_hash, worker_stop
from tests.tenant_apps.calls.conftest import credit

SLUG = "halo"


@pytest.fixture(scope="module")
def halo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        licensee = licensee_make(
            slug=SLUG, name="Halo Readings", owner_password_hash=password_hash(), status="active"
        )
        brand_services.brand_update(
            licensee=licensee, app_name="Halo Readings", primary_color="#3a2f6b"
        )
        with tenant_context(licensee):
            user = User.objects.create(
                email="luna@halo.test",
                role="advisor",
                password=password_hash(),
                display_name="Luna Starling",
            )
            Advisor.objects.create(
                user=user,
                display_name="Luna Starling",
                rate_minor_per_minute=200,
                chat_rate_minor_per_minute=150,
                video_rate_minor_per_minute=300,
                kinds=["voice", "video", "chat"],
                status=Advisor.Status.ONLINE,
            )
            for email, name in (("casey@halo.test", "Casey"), ("sam@halo.test", "Sam")):
                caller = User.objects.create(
                    email=email, role="end_user", password=password_hash(), display_name=name
                )
                credit(caller.pk, 3_000)
        connection.set_schema_to_public()
        connections.close_all()
    yield licensee
    with django_db_blocker.unblock():
        licensee_destroy(licensee)
        brand_cache.invalidate()
        connection.set_schema_to_public()
        connections.close_all()


@pytest.fixture
def live(halo, livekit, callrix_server, committed):
    livekit.webhook_url = f"{callrix_server.url}/webhooks/livekit"
    livekit.webhook_host = "localhost"
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    connection.set_schema_to_public()
    yield livekit
    worker_stop(worker)
    connection.set_schema_to_public()


def _latest_call(halo) -> Call | None:
    with tenant_context(halo):
        call = Call.objects.select_related("caller").order_by("-id").first()
    connection.set_schema_to_public()
    return call


def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _luna(halo) -> Advisor:
    with tenant_context(halo):
        advisor = Advisor.objects.get(user__email="luna@halo.test")
    connection.set_schema_to_public()
    return advisor


def _accept_in_console(advisor_page, call_id: int, announced: str) -> None:
    alert = advisor_page.locator("#incoming")
    # The console polls: wait until it shows this call, not one that rang before.
    alert.get_by_text(announced).wait_for(timeout=15_000)
    alert.get_by_role("button", name="Accept").click()
    advisor_page.wait_for_url(f"**/calls/{call_id}/")


def test_a_chat_with_messages_both_ways_then_video_and_the_queue(
    halo, live, open_page, sign_in, screenshot
):
    luna = _luna(halo)
    advisor = open_page(SLUG)
    sign_in(advisor, "luna@halo.test")
    advisor.wait_for_url("**/advisor/")
    caller = open_page(SLUG, width=375, height=812)
    sign_in(caller, "casey@halo.test")

    caller.goto(f"/advisors/{luna.pk}/")
    assert caller.get_by_test_id("rate-chat").inner_text() == "€1.50 per minute"
    screenshot(caller, "sessions-advisor-kinds-375")
    caller.get_by_role("button", name="Chat with Luna Starling now").click()
    caller.wait_for_url(re.compile(r"/calls/\d+/$"))
    call_id = int(caller.url.rstrip("/").rsplit("/", 1)[1])
    caller.get_by_role("heading", name="Chat with Luna Starling").wait_for()
    _accept_in_console(advisor, call_id, "Incoming chat from Casey")
    caller.locator("[data-call-status]").get_by_text("Connected.").wait_for(timeout=15_000)

    caller.get_by_label("Your message").fill("Will my week go well?")
    caller.get_by_role("button", name="Send").click()
    advisor.locator(".chat-message").get_by_text("Will my week go well?").wait_for()
    advisor.get_by_label("Your message").press_sequentially("It ")
    caller.get_by_text("Luna Starling is typing…").wait_for(timeout=10_000)
    advisor.get_by_label("Your message").fill("It will: a letter brings good news.")
    advisor.get_by_role("button", name="Send").click()
    caller.locator(".chat-message").get_by_text("a letter brings good news").wait_for()
    # The advisor's screen has read the caller's message: the caller sees it as read.
    caller.locator(".chat-message.mine [data-read-state='read']").wait_for(timeout=10_000)
    screenshot(caller, "sessions-chat-caller-375")
    screenshot(advisor, "sessions-chat-advisor")
    with tenant_context(halo):
        assert ChatMessage.objects.filter(call_id=call_id).count() == 2
    connection.set_schema_to_public()

    # Sam joins Luna's queue while the chat runs, and is offered the session when it ends.
    sam = open_page(SLUG, width=375, height=812)
    sign_in(sam, "sam@halo.test")
    sam.goto(f"/advisors/{luna.pk}/")
    sam.get_by_role("button", name="Join the queue").click()
    sam.get_by_text(re.compile(r"You are number 1 in line")).wait_for()
    screenshot(sam, "sessions-queue-waiting-375")
    advisor.goto("/advisor/")
    assert "Sam" in advisor.locator("[data-console-queue]").inner_text()
    screenshot(advisor, "sessions-console-queue")

    caller.goto(f"/calls/{call_id}/")
    # The reloaded screen rejoins the room first (its join would meet the hang-up).
    caller.get_by_role("button", name="Leave for a moment").wait_for(timeout=15_000)
    caller.get_by_role("button", name="Hang up").click()
    caller.get_by_role("heading", name="Receipt").wait_for(timeout=15_000)
    screenshot(caller, "sessions-chat-receipt-375")

    sam.get_by_role("button", name="Start now").wait_for(timeout=15_000)
    screenshot(sam, "sessions-queue-offered-375")
    sam.get_by_role("button", name="Start now").click()
    sam.wait_for_url(re.compile(r"/calls/\d+/$"))
    offered_call = _latest_call(halo)
    assert offered_call is not None and offered_call.caller.email == "sam@halo.test"
    sam.get_by_role("button", name="Hang up").click()
    sam.get_by_text("The call has ended.").wait_for(timeout=15_000)

    # A video call screen: the stage and the camera control.
    assert _wait(lambda: _luna(halo).status == "online")
    caller.goto(f"/advisors/{luna.pk}/")
    caller.get_by_role("button", name="Video call Luna Starling now").click()
    caller.wait_for_url(re.compile(r"/calls/\d+/$"))
    video_id = int(caller.url.rstrip("/").rsplit("/", 1)[1])
    _accept_in_console(advisor, video_id, "Incoming video call from Casey")
    caller.get_by_role("button", name="Camera off").wait_for(timeout=15_000)
    assert caller.locator("[data-video-stage]").is_visible()
    screenshot(caller, "sessions-video-375")
    caller.get_by_role("button", name="Hang up").click()
    caller.get_by_role("heading", name="Receipt").wait_for(timeout=15_000)
    for page in (caller, advisor, sam):
        assert page.console_errors == [], page.console_errors


def test_a_booked_session_rings_the_advisor_at_its_time(halo, live, open_page, sign_in, screenshot):
    from datetime import time as clock_time

    import time_machine

    from tenant_apps.appointments import services as appointment_services
    from tenant_apps.appointments.models import Appointment

    luna = _luna(halo)
    with tenant_context(halo):
        appointment_services.availability_set(
            advisor=luna,
            time_zone="Europe/Berlin",
            windows=[(day, clock_time(0, 0), clock_time(23, 30)) for day in range(7)],
        )
    connection.set_schema_to_public()
    advisor = open_page(SLUG)
    sign_in(advisor, "luna@halo.test")
    advisor.wait_for_url("**/advisor/")
    # Luna stops offering video from her console; chat stays at €1.50.
    advisor.get_by_label("Video call", exact=True).uncheck()
    advisor.get_by_role("button", name="Save kinds and rates").click()
    assert _wait(lambda: _luna(halo).kinds == ["voice", "chat"])
    assert _luna(halo).chat_rate_minor_per_minute == 150
    caller = open_page(SLUG, width=375, height=812)
    sign_in(caller, "casey@halo.test")
    caller.goto(f"/advisors/{luna.pk}/")
    assert caller.get_by_test_id("rate-video").count() == 0
    caller.get_by_label("Session", exact=True).select_option("chat")
    screenshot(caller, "sessions-book-375")
    caller.get_by_role("button", name="Book", exact=True).click()
    caller.get_by_role("heading", name="Your bookings").wait_for(timeout=15_000)
    with tenant_context(halo):
        booking = Appointment.objects.get(status="booked")
    connection.set_schema_to_public()
    advisor.reload()
    assert "Casey" in advisor.locator("[data-console-bookings]").inner_text()
    screenshot(advisor, "sessions-console-bookings")

    with time_machine.travel(booking.starts_at, tick=True):
        with tenant_context(halo):
            assert appointment_services.appointments_ring() == 1
        connection.set_schema_to_public()
        alert = advisor.locator("#incoming")
        alert.get_by_text("Incoming chat from Casey").wait_for(timeout=15_000)
        screenshot(advisor, "sessions-booking-ringing")
        alert.get_by_role("button", name="Decline").click()
        assert _wait(lambda: _latest_call(halo).status == "declined")

    # The same screens in German.
    for page in (caller, advisor):
        page.context.add_cookies([{"name": "language", "value": "de", "url": page.url}])
    caller.goto(f"/advisors/{luna.pk}/")
    caller.get_by_role("heading", name="Sitzung buchen").wait_for()
    assert "Jetzt mit Luna Starling chatten" in caller.locator("main").inner_text()
    screenshot(caller, "sessions-advisor-de-375")
    advisor.goto("/advisor/")
    advisor.get_by_role("heading", name="Wartet auf Sie").wait_for()
    screenshot(advisor, "sessions-console-de")
    for page in (caller, advisor):
        assert page.console_errors == [], page.console_errors
