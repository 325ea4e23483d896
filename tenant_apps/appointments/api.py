"""Booked sessions: advisors publish weekly availability; end users book, list and cancel;
licensee admins see every booking."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal

from django.utils import timezone
from ninja import Router, Schema
from ninja.params.functions import Path
from ninja.responses import Status
from pydantic import Field

from identity.auth import (
    ADMIN_ROLES,
    ADVISOR_ROLES,
    END_USER_ROLES,
    AuthenticatedRequest,
    TokenAuth,
)
from tenant_apps.advisors.errors import AdvisorNotFound
from tenant_apps.advisors.selectors import advisor_for_user, advisor_get_public
from tenant_apps.appointments import selectors, services
from tenant_apps.appointments.models import AdvisorSchedule, Appointment

router = Router(tags=["appointments"])
MAX_ID = 9_223_372_036_854_775_807
PARTIES = TokenAuth(roles=END_USER_ROLES | ADVISOR_ROLES)


class AvailabilityWindowIn(Schema):
    weekday: int = Field(ge=0, le=6)
    start: time
    end: time


class AvailabilityIn(Schema):
    time_zone: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")
    windows: list[AvailabilityWindowIn] = Field(max_length=70)


class AvailabilityWindowOut(Schema):
    weekday: int
    start: time
    end: time


class BookedRangeOut(Schema):
    starts_at: datetime
    ends_at: datetime


class AvailabilityOut(Schema):
    advisor_id: int
    time_zone: str
    windows: list[AvailabilityWindowOut]
    booked: list[BookedRangeOut]


class AppointmentIn(Schema):
    advisor_id: int = Field(ge=1, le=MAX_ID)
    kind: Literal["voice", "video", "chat"] = "voice"
    starts_at: datetime
    minutes: int = Field(ge=1, le=1_440)


class AppointmentOut(Schema):
    id: int
    advisor_id: int
    advisor_name: str
    caller_name: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    rate: int
    held: int
    status: str
    call_id: int | None


def _availability(advisor_id: int, schedule: AdvisorSchedule | None) -> dict[str, object]:
    now = timezone.now()
    return {
        "advisor_id": advisor_id,
        "time_zone": schedule.time_zone if schedule else "UTC",
        "windows": [
            {"weekday": w.weekday, "start": w.starts, "end": w.ends}
            for w in (schedule.windows.all() if schedule else [])
        ],
        "booked": [
            {"starts_at": start, "ends_at": end}
            for start, end in selectors.booked_ranges(
                advisor_id=advisor_id, since=now, until=now + timedelta(days=14)
            )
        ],
    }


def _out(appointment: Appointment) -> dict[str, object]:
    return {
        "id": appointment.pk,
        "advisor_id": appointment.advisor_id,
        "advisor_name": appointment.advisor.display_name,
        "caller_name": appointment.caller.display_name,
        "kind": appointment.kind,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "rate": appointment.rate_minor_per_minute,
        "held": appointment.held_minor if appointment.status == Appointment.Status.BOOKED else 0,
        "status": appointment.status,
        "call_id": appointment.call_id_started,
    }


@router.put(
    "/advisor/me/availability", response=AvailabilityOut, auth=TokenAuth(roles=ADVISOR_ROLES)
)
def availability_set(request: AuthenticatedRequest, payload: AvailabilityIn) -> dict[str, object]:
    advisor = advisor_for_user(user_id=request.auth.pk)
    if advisor is None:
        raise AdvisorNotFound("Your advisor profile does not exist.", field=None)
    schedule = services.availability_set(
        advisor=advisor,
        time_zone=payload.time_zone,
        windows=[(w.weekday, w.start, w.end) for w in payload.windows],
    )
    return _availability(advisor.pk, selectors.schedule_get(advisor_id=schedule.advisor_id))


@router.get("/advisors/{advisor_id}/availability", response=AvailabilityOut, auth=None)
def availability_get(
    request: AuthenticatedRequest, advisor_id: int = Path(ge=1, le=MAX_ID)
) -> dict[str, object]:
    if advisor_get_public(advisor_id=advisor_id) is None:
        raise AdvisorNotFound("There is no such advisor.", field="advisor_id")
    return _availability(advisor_id, selectors.schedule_get(advisor_id=advisor_id))


@router.post("/appointments", response={201: AppointmentOut}, auth=TokenAuth(roles=END_USER_ROLES))
def appointment_book(
    request: AuthenticatedRequest, payload: AppointmentIn
) -> Status[dict[str, object]]:
    appointment = services.appointment_book(
        caller=request.auth,
        advisor_id=payload.advisor_id,
        kind=payload.kind,
        starts_at=payload.starts_at,
        minutes=payload.minutes,
    )
    return Status(201, _out(appointment))


@router.get("/appointments", response=list[AppointmentOut], auth=PARTIES)
def appointments_mine(request: AuthenticatedRequest) -> list[dict[str, object]]:
    return [_out(a) for a in selectors.appointments_for_party(user=request.auth)[:200]]


@router.post("/appointments/{appointment_id}/cancel", response=AppointmentOut, auth=PARTIES)
def appointment_cancel(
    request: AuthenticatedRequest, appointment_id: int = Path(ge=1, le=MAX_ID)
) -> dict[str, object]:
    return _out(services.appointment_cancel(user=request.auth, appointment_id=appointment_id))


@router.get("/admin/appointments", response=list[AppointmentOut], auth=TokenAuth(roles=ADMIN_ROLES))
def appointments_admin(request: AuthenticatedRequest) -> list[dict[str, object]]:
    return [_out(a) for a in selectors.appointments_for_licensee()[:500]]
