"""Booked sessions: weekly availability in the advisor's time zone, booking with the minimum
credit held, clashes refused by the database, cancelling in time, reminders, and ringing both
sides at the start time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from tenant_apps.advisors.models import Advisor
from tenant_apps.appointments import services
from tenant_apps.appointments.models import Appointment
from tenant_apps.calls.models import Call
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_caller

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def _tomorrow_at(hour: int, minute: int = 0) -> datetime:
    today = datetime.now(BERLIN).date()
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=BERLIN) + timedelta(
        days=1
    )


def _publish(world):
    weekday = _tomorrow_at(9).weekday()
    response = world.api("alpha").put(
        "/api/v1/advisor/me/availability",
        {
            "time_zone": "Europe/Berlin",
            "windows": [
                {"weekday": weekday, "start": "09:00", "end": "17:00"},
                {"weekday": (weekday + 2) % 7, "start": "09:00", "end": "12:00"},
            ],
        },
        world.advisor_token,
    )
    assert response.status_code == 200, response.content
    return response.json()


def _book(world, token, starts_at: datetime, minutes: int = 30, kind: str = "chat"):
    return world.post(
        "/api/v1/appointments",
        token,
        {
            "advisor_id": world.advisor.pk,
            "kind": kind,
            "starts_at": starts_at.isoformat(),
            "minutes": minutes,
        },
    )


def _token(world, email: str, slug: str = "alpha") -> str:
    return (
        world.api(slug)
        .post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        .json()["access"]
    )


@pytest.fixture
def luna_chats(world):
    world.api("alpha").patch(
        "/api/v1/advisor/me", {"rates": {"voice": 200, "chat": 150}}, world.advisor_token
    )
    return world


def test_a_booking_for_tomorrow_holds_credit_and_rings_at_ten(
    luna_chats, clock, django_capture_on_commit_callbacks
):
    world = luna_chats
    published = _publish(world)
    assert published["time_zone"] == "Europe/Berlin" and len(published["windows"]) == 2

    ten, five_past_nine = _tomorrow_at(10), _tomorrow_at(9, 5)
    booked = _book(world, world.caller_token, ten)
    assert booked.status_code == 201, booked.content
    appointment = booked.json()
    assert (appointment["status"], appointment["held"], appointment["kind"]) == (
        "booked",
        300,  # the licensee's two minutes at €1.50
        "chat",
    )
    assert world.wallet().held_minor == 300 and world.wallet().available_minor == 1_700
    public = world.api("alpha").get(f"/api/v1/advisors/{world.advisor.pk}/availability").json()
    assert [b["starts_at"][:16] for b in public["booked"]] == [
        ten.astimezone(ZoneInfo("UTC")).isoformat()[:16]
    ]

    # The advisor goes offline; an hour before, both are reminded (once).
    Advisor.objects.filter(pk=world.advisor.pk).update(status="offline")
    clock.advance((five_past_nine - clock.now).total_seconds())
    assert services.appointments_ring() == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.appointments_remind() == 1
    for callback in callbacks:
        if getattr(callback, "func", None) is services._reminder_mail:
            callback()  # the e-mail (the push job is left to the worker)
    assert services.appointments_remind() == 0
    assert len(mail.outbox) == 1 and "Luna" in mail.outbox[0].subject

    clock.advance((ten - clock.now).total_seconds())
    assert services.appointments_ring() == 1
    started = Appointment.objects.get(pk=appointment["id"])
    call = Call.objects.get(pk=started.call_id_started)
    assert started.status == "started" and (call.status, call.kind) == ("ringing", "chat")
    assert world.wallet().held_minor == 300  # the booking's hold became the call's
    assert Advisor.objects.get(pk=world.advisor.pk).status == "busy"
    assert services.appointments_ring() == 0


def test_clashes_and_bad_slots_are_refused(luna_chats, clock):
    world = luna_chats
    _publish(world)
    assert _book(world, world.caller_token, _tomorrow_at(10)).status_code == 201
    make_caller("sam@example.test")
    sam = _token(world, "sam@example.test")
    clash = _book(world, sam, _tomorrow_at(10, 15))
    assert clash.status_code == 409 and clash.json()["code"] == "slot_taken"
    for starts_at, minutes, field in (
        (_tomorrow_at(8), 30, "starts_at"),  # before the window opens
        (_tomorrow_at(16, 45), 30, "starts_at"),  # runs past its end
        (_tomorrow_at(11), 20, "minutes"),  # not in 15-minute steps
        (_tomorrow_at(9) - timedelta(days=3), 30, "starts_at"),  # the past
    ):
        refused = _book(world, sam, starts_at, minutes)
        assert refused.status_code == 422 and refused.json()["field"] == field, refused.content
    assert _book(world, sam, _tomorrow_at(11), kind="video").json()["code"] == "kind_not_offered"
    make_caller("poor@example.test", credit_minor=0)
    poor = _token(world, "poor@example.test")
    assert _book(world, poor, _tomorrow_at(12)).json()["code"] == "insufficient_funds"
    assert Appointment.objects.count() == 1

    # The database itself refuses an overlap, whatever the code above does.
    first = Appointment.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            advisor=first.advisor,
            caller=first.caller,
            starts_at=first.starts_at + timedelta(minutes=29),
            ends_at=first.ends_at + timedelta(minutes=29),
            rate_minor_per_minute=150,
        )


def test_cancelling_in_time_releases_the_credit(luna_chats, clock):
    world = luna_chats
    _publish(world)
    ten = _tomorrow_at(10)
    soon = _book(world, world.caller_token, ten).json()
    later = _book(world, world.caller_token, _tomorrow_at(10) + timedelta(days=2)).json()
    assert world.wallet().held_minor == 600
    cancelled = world.post(f"/api/v1/appointments/{later['id']}/cancel", world.caller_token)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert world.wallet().held_minor == 300

    clock.advance((ten - timedelta(hours=23) - clock.now).total_seconds())
    world.caller_token = _token(world, "casey@example.test")  # a day on: fresh tokens
    world.advisor_token = _token(world, "luna@example.test")
    late = world.post(f"/api/v1/appointments/{soon['id']}/cancel", world.caller_token)
    assert late.status_code == 409 and late.json()["code"] == "cancellation_closed"
    # The advisor may still cancel; the caller's credit comes back.
    by_advisor = world.post(f"/api/v1/appointments/{soon['id']}/cancel", world.advisor_token)
    assert by_advisor.status_code == 200
    assert world.wallet().held_minor == 0
    mine = world.api("alpha").get("/api/v1/appointments", world.caller_token).json()
    assert {a["status"] for a in mine} == {"cancelled"}
    own = world.api("alpha").get("/api/v1/me/export", token=world.caller_token).json()
    assert [(a["advisor"], a["status"]) for a in own["appointments"]] == [
        ("Luna", "cancelled"),
        ("Luna", "cancelled"),
    ]


def test_bad_availability_is_refused(luna_chats):
    world = luna_chats
    for body, field in (
        ({"time_zone": "Mars/Olympus", "windows": []}, "time_zone"),
        (
            {
                "time_zone": "UTC",
                "windows": [
                    {"weekday": 1, "start": "09:00", "end": "12:00"},
                    {"weekday": 1, "start": "11:00", "end": "13:00"},
                ],
            },
            "windows",
        ),
        ({"time_zone": "UTC", "windows": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, None),
    ):
        response = world.api("alpha").put(
            "/api/v1/advisor/me/availability", body, world.advisor_token
        )
        assert response.status_code == 422, response.content
        if field:
            assert response.json()["field"] == field


def test_another_licensee_cannot_book_see_or_cancel(luna_chats, clock, beta, api):
    world = luna_chats
    _publish(world)
    booking = _book(world, world.caller_token, _tomorrow_at(10)).json()
    with schema_context("beta"):
        connection.tenant = beta
        make_caller("bea@example.test")
    bea = _token(world, "bea@example.test", "beta")
    on_beta = api("beta")
    refused = on_beta.post(
        "/api/v1/appointments",
        {
            "advisor_id": world.advisor.pk,
            "kind": "chat",
            "starts_at": _tomorrow_at(11).isoformat(),
            "minutes": 30,
        },
        token=bea,
    )
    assert refused.status_code == 404
    assert on_beta.get("/api/v1/appointments", token=bea).json() == []
    assert (
        on_beta.post(f"/api/v1/appointments/{booking['id']}/cancel", token=bea).status_code == 404
    )
    assert on_beta.get("/api/v1/appointments", token=world.caller_token).status_code == 401
    connection.set_tenant(world.licensee)
    assert Appointment.objects.get().status == "booked"


def test_the_dashboard_lists_bookings_for_the_licensee_only(luna_chats, make_user, alpha, beta):
    from tests.tenant_apps.webapp.conftest import client_for

    world = luna_chats
    _publish(world)
    _book(world, world.caller_token, _tomorrow_at(10))
    owner = make_user("alpha", "boss@example.test", role="admin")
    page = client_for("alpha", owner).get("/dashboard/bookings/")
    html = page.content.decode()
    assert page.status_code == 200 and "Luna" in html and "Casey" in html and "€3.00" in html
    csv = client_for("alpha", owner).get("/dashboard/bookings/?format=csv")
    assert b"Luna,chat," in b"".join(csv.streaming_content)
    other = make_user("beta", "boss@example.test", role="admin")
    assert "Luna" not in client_for("beta", other).get("/dashboard/bookings/").content.decode()
    connection.set_tenant(world.licensee)


def test_the_slot_picker_offers_free_half_hours_in_the_advisors_time(luna_chats, clock):
    from tenant_apps.appointments.selectors import open_slots

    world = luna_chats
    _publish(world)
    ten = _tomorrow_at(10)
    before = open_slots(advisor_id=world.advisor.pk, now=clock.now, days=1)
    assert ten in before and _tomorrow_at(8, 30) not in before
    assert all(slot.astimezone(BERLIN).hour >= 9 for slot in before)
    _book(world, world.caller_token, ten, minutes=60)
    after = open_slots(advisor_id=world.advisor.pk, now=clock.now, days=1)
    assert ten not in after and _tomorrow_at(10, 30) not in after
    assert _tomorrow_at(11) in after and _tomorrow_at(9, 30) in after


def test_both_parties_see_a_booking_at_the_time_it_was_booked_for(luna_chats, alpha):
    """Ten in Berlin is ten on the caller's advisor page and in the advisor's console, where
    the slot picker offered it — not the UTC hour."""
    from tests.tenant_apps.webapp.conftest import client_for

    world = luna_chats
    _publish(world)
    ten = _tomorrow_at(10)
    assert _book(world, world.caller_token, ten).status_code == 201
    caller_page = client_for("alpha", world.caller).get(f"/advisors/{world.advisor.pk}/")
    console = client_for("alpha", world.advisor.user).get("/advisor/").content.decode()
    assert "Times in Europe/Berlin." in console
    for shown in (
        re.search(r"<li>([^<]*) — Chat", caller_page.content.decode()).group(1),
        re.search(r"<li>([^<]*) — Casey \(Chat\)", console).group(1),
    ):
        # Babel's words for the reader's locale: the weekday, the day, ten o'clock.
        assert f"{ten:%a}" in shown and f" {ten.day}" in shown and "10:00" in shown, shown
    connection.set_tenant(world.licensee)
