"""The pages of chat and video sessions: the advisor page offers each kind at its rate, the
session screen carries the chat or the video stage, in English and German."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import services
from tenant_apps.calls.models import ChatMessage, QueueEntry
from tenant_apps.pricing.services import policy_update
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def luna(alpha):
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("luna@example.test", display_name="Luna")
        Advisor.objects.filter(pk=advisor.pk).update(
            kinds=["voice", "video", "chat"],
            chat_rate_minor_per_minute=150,
            video_rate_minor_per_minute=300,
        )
        caller = make_caller("casey@example.test")
    connection.set_schema_to_public()
    return advisor, caller


def test_the_advisor_page_offers_each_kind_with_its_rate(luna, signed_in, alpha):
    advisor, caller = luna
    html = signed_in("alpha", caller).get(f"/advisors/{advisor.pk}/").content.decode()
    assert 'data-testid="rate-chat">€1.50 per minute' in html
    assert 'data-testid="rate-video">€3.00 per minute' in html
    assert "Chat with Luna now" in html and "Video call Luna now" in html
    assert 'name="kind" value="chat"' in html

    with schema_context("alpha"):
        connection.tenant = alpha
        policy_update(video_enabled=False)
    connection.set_schema_to_public()
    html = signed_in("alpha", caller).get(f"/advisors/{advisor.pk}/").content.decode()
    assert "Video call Luna now" not in html and "rate-video" not in html

    german = signed_in("alpha", caller)
    german.cookies["language"] = "de"
    assert "Jetzt mit Luna chatten" in german.get(f"/advisors/{advisor.pk}/").content.decode()


def test_the_chat_screen_shows_the_transcript_to_both_and_nobody_else(
    luna, signed_in, alpha, livekit
):
    advisor, caller = luna
    with schema_context("alpha"):
        connection.tenant = alpha
        call = services.call_request(caller=caller, advisor_id=advisor.pk, kind="chat")
        ChatMessage.objects.create(call=call, sender=caller, text="Hello <b>Luna</b>")
        stranger = make_caller("eve@example.test", credit_minor=0)
    connection.set_schema_to_public()

    page = signed_in("alpha", caller).get(f"/calls/{call.pk}/").content.decode()
    assert "Chat with Luna" in page and "data-chat-form" in page
    assert "Hello &lt;b&gt;Luna&lt;/b&gt;" in page  # escaped
    assert 'data-action="mute"' not in page  # a chat has no microphone
    console = signed_in("alpha", advisor.user)
    console.cookies["language"] = "de"
    assert "Nachrichten" in console.get(f"/calls/{call.pk}/").content.decode()
    assert signed_in("alpha", stranger).get(f"/calls/{call.pk}/").status_code == 404


def test_the_video_screen_has_the_stage_and_camera_control(luna, signed_in, alpha, livekit):
    advisor, caller = luna
    with schema_context("alpha"):
        connection.tenant = alpha
        call = services.call_request(caller=caller, advisor_id=advisor.pk, kind="video")
    connection.set_schema_to_public()
    page = signed_in("alpha", caller).get(f"/calls/{call.pk}/").content.decode()
    assert "Video call with Luna" in page
    assert "data-remote-video" in page and 'data-action="camera"' in page


def test_a_busy_advisor_offers_the_queue_and_the_console_shows_it(luna, signed_in, alpha):
    advisor, caller = luna
    with schema_context("alpha"):
        connection.tenant = alpha
        Advisor.objects.filter(pk=advisor.pk).update(status="busy")
        QueueEntry.objects.create(advisor=advisor, caller=caller, kind="chat")
    connection.set_schema_to_public()
    page = signed_in("alpha", caller).get(f"/advisors/{advisor.pk}/").content.decode()
    assert "Join the queue" in page and "app/queue.js" in page
    assert "Call Luna now" not in page
    console = signed_in("alpha", advisor.user)
    console.cookies["language"] = "de"
    html = console.get("/advisor/").content.decode()
    assert "Wartet auf Sie" in html and "Casey — Chat" in html


def test_the_slot_picker_shows_times_in_the_advisors_zone(luna, signed_in, alpha):
    from datetime import time

    from tenant_apps.appointments.services import availability_set

    advisor, caller = luna
    with schema_context("alpha"):
        connection.tenant = alpha
        availability_set(
            advisor=advisor,
            time_zone="Asia/Kolkata",  # +05:30: half hours show as :00 and :30 there
            windows=[(day, time(9, 0), time(10, 0)) for day in range(7)],
        )
    connection.set_schema_to_public()
    client = signed_in("alpha", caller)
    client.cookies["language"] = "de"
    html = client.get(f"/advisors/{advisor.pk}/").content.decode()
    assert "Sitzung buchen" in html and "Zeiten in Asia/Kolkata." in html
    assert ", 09:00</option>" in html and ", 09:30</option>" in html


def test_the_console_sets_the_kinds_offered_and_their_rates(luna, signed_in):
    advisor, _caller = luna
    html = signed_in("alpha", advisor.user).get("/advisor/").content.decode()
    assert 'name="rates.chat"' in html and 'value="1.50"' in html and 'value="3.00"' in html
    assert 'id="offer-chat" data-kind-toggle="rate-chat" checked' in html
