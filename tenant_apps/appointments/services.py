"""Availability, booking, cancelling, reminding and ringing booked sessions.

Booking holds the credit a session needs to start (the licensee's minimum minutes at the
advisor's rate for the kind) in the same transaction as the booking; cancelling in time
releases it. At the start time the scheduler's job turns the booking into a call: the hold
is released and the call's own hold placed, and both sides ring (`call_request`)."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branding.mail import branded_email_send
from branding.selectors import brand_current
from identity.models import User
from kernel.errors import DomainError
from tenant_apps.advisors.models import Advisor
from tenant_apps.appointments.errors import (
    AppointmentNotFound,
    AvailabilityInvalid,
    CancellationClosed,
    SlotTaken,
    SlotUnavailable,
)
from tenant_apps.appointments.models import AdvisorSchedule, Appointment, AvailabilityWindow
from tenant_apps.calls import services as call_services
from tenant_apps.notifications.services import push_request
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets import services as wallet_services

logger = logging.getLogger(__name__)

SLOT_STEP_MINUTES = 15
MAX_MINUTES = 240
MAX_DAYS_AHEAD = 90
REMIND_BEFORE = timedelta(hours=1)
# A booking whose start the job missed by more than this is not rung any more.
RING_LATE_LIMIT = timedelta(minutes=15)


def availability_set(
    *, advisor: Advisor, time_zone: str, windows: list[tuple[int, time, time]]
) -> AdvisorSchedule:
    """Replace the advisor's weekly availability (weekday 0 = Monday, local times)."""
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AvailabilityInvalid(_("Unknown time zone."), field="time_zone") from None
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, starts, ends in windows:
        if not 0 <= weekday <= 6 or ends <= starts:
            raise AvailabilityInvalid(
                _("Each window is a weekday (0-6) and a start before its end."), field="windows"
            )
        by_day.setdefault(weekday, []).append((starts, ends))
    for spans in by_day.values():
        spans.sort()
        if any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)):
            raise AvailabilityInvalid(_("Windows of one day overlap."), field="windows")
    with transaction.atomic():
        schedule, _created = AdvisorSchedule.objects.select_for_update().get_or_create(
            advisor=advisor
        )
        schedule.time_zone = time_zone
        schedule.save()
        schedule.windows.all().delete()
        AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(schedule=schedule, weekday=day, starts=starts, ends=ends)
            for day, starts, ends in windows
        )
    return schedule


def _within_availability(advisor: Advisor, starts_at: datetime, ends_at: datetime) -> bool:
    schedule = AdvisorSchedule.objects.filter(advisor=advisor).first()
    if schedule is None:
        return False
    zone = ZoneInfo(schedule.time_zone)
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if local_start.date() != local_end.date() and local_end.time() != time(0, 0):
        return False  # a slot stays within one local day
    end_time = local_end.time() if local_end.date() == local_start.date() else time.max
    return schedule.windows.filter(
        weekday=local_start.weekday(), starts__lte=local_start.time(), ends__gte=end_time
    ).exists()


def appointment_book(
    *, caller: User, advisor_id: int, kind: str, starts_at: datetime, minutes: int
) -> Appointment:
    if minutes % SLOT_STEP_MINUTES or not SLOT_STEP_MINUTES <= minutes <= MAX_MINUTES:
        raise SlotUnavailable(
            _("Book %(step)d to %(max)d minutes, in steps of %(step)d.")
            % {"step": SLOT_STEP_MINUTES, "max": MAX_MINUTES},
            field="minutes",
        )
    now = timezone.now()
    if starts_at <= now or starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise SlotUnavailable(
            _("Pick a time in the next %(days)d days.") % {"days": MAX_DAYS_AHEAD},
            field="starts_at",
        )
    ends_at = starts_at + timedelta(minutes=minutes)

    def advisor_available_then(advisor: Advisor) -> None:
        if not _within_availability(advisor, starts_at, ends_at):
            raise SlotUnavailable(
                _("%(name)s is not available at that time.") % {"name": advisor.display_name},
                field="starts_at",
            )

    with transaction.atomic():
        admitted = call_services.session_admit(
            caller=caller,
            advisor_id=advisor_id,
            kind=kind,
            purpose="book",
            advisor_check=advisor_available_then,
        )
        advisor, minimum = admitted.advisor, admitted.minimum_minor
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    advisor=advisor,
                    caller=caller,
                    kind=kind,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    rate_minor_per_minute=admitted.rate_minor_per_minute,
                    held_minor=minimum,
                )
        except IntegrityError:  # an exclusion constraint: that time is booked
            raise SlotTaken(_("That time is already booked."), field="starts_at") from None
        wallet_services.hold_place(
            user_id=caller.pk,
            amount_minor=minimum,
            idempotency_key=f"appointment:{appointment.pk}:hold",
            description=f"Reserved for a booked session with {advisor.display_name}",
            metadata={"appointment_id": appointment.pk},
        )
        push_request(
            user_ids=[advisor.user_id],
            kind="appointment_booked",
            data={"appointment_id": appointment.pk, "starts_at": starts_at.isoformat()},
            title=_("New booking"),
            body=_("%(name)s booked a session with you.")
            % {"name": caller.display_name or _("A caller")},
        )
    return appointment


def _release(appointment: Appointment, reason: str) -> None:
    if appointment.held_minor:
        wallet_services.hold_release(
            user_id=appointment.caller_id,
            amount_minor=appointment.held_minor,
            idempotency_key=f"appointment:{appointment.pk}:release",
            description=reason,
            metadata={"appointment_id": appointment.pk},
        )


def _party_appointment(user: User, appointment_id: int) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("advisor")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None or user.pk not in (appointment.caller_id, appointment.advisor.user_id):
        raise AppointmentNotFound(_("There is no such booking."), field="appointment_id")
    return appointment


def appointment_cancel(*, user: User, appointment_id: int) -> Appointment:
    """The caller cancels until the licensee's window closes (the hold is released); the
    advisor may cancel any time, and the caller's credit is always released then."""
    with transaction.atomic():
        appointment = _party_appointment(user, appointment_id)
        if appointment.status != Appointment.Status.BOOKED:
            raise CancellationClosed(
                _("This booking is %(status)s.") % {"status": appointment.status},
                field="appointment_id",
            )
        by_caller = user.pk == appointment.caller_id
        window = timedelta(hours=policy_get().appointment_cancel_hours)
        if by_caller and timezone.now() > appointment.starts_at - window:
            raise CancellationClosed(
                _("Bookings can be cancelled until %(hours)d hours before they start.")
                % {"hours": policy_get().appointment_cancel_hours},
                field="appointment_id",
            )
        appointment.status = Appointment.Status.CANCELLED
        appointment.cancelled_at = timezone.now()
        appointment.save(update_fields=["status", "cancelled_at"])
        _release(appointment, "Booking cancelled")
        other = appointment.advisor.user_id if by_caller else appointment.caller_id
        push_request(
            user_ids=[other],
            kind="appointment_cancelled",
            data={"appointment_id": appointment.pk},
            title=_("A booking was cancelled"),
        )
    return appointment


def _reminder_mail(*, email: str, advisor_name: str, starts_at: datetime) -> None:
    branded_email_send(
        to=[email],
        subject=_("Your session with %(name)s starts soon") % {"name": advisor_name},
        paragraphs=[
            _("Your booked session with %(name)s starts at %(time)s (UTC).")
            % {"name": advisor_name, "time": starts_at.strftime("%Y-%m-%d %H:%M")},
            _("Keep the app open: it rings at the start time."),
        ],
        brand=brand_current(),
    )


def appointments_remind(*, now: datetime | None = None) -> int:
    """Push and e-mail both sides an hour before a booked session (once)."""
    now = now or timezone.now()
    due = Appointment.objects.filter(
        status=Appointment.Status.BOOKED,
        reminded_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + REMIND_BEFORE,
    ).select_related("advisor", "caller")
    reminded = 0
    for appointment in due:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update(skip_locked=True).filter(
                pk=appointment.pk, reminded_at__isnull=True
            )
            if not locked.update(reminded_at=now):
                continue
            push_request(
                user_ids=[appointment.caller_id, appointment.advisor.user_id],
                kind="appointment_reminder",
                data={
                    "appointment_id": appointment.pk,
                    "starts_at": appointment.starts_at.isoformat(),
                },
                title=_("Your session starts soon"),
            )
            transaction.on_commit(
                partial(
                    _reminder_mail,
                    email=appointment.caller.email,
                    advisor_name=appointment.advisor.display_name,
                    starts_at=appointment.starts_at,
                )
            )
            reminded += 1
    return reminded


def appointments_ring(*, now: datetime | None = None) -> int:
    """Turn each booking whose time has come into a call that rings both sides."""
    now = now or timezone.now()
    with transaction.atomic():  # missed by the job for too long: released, not rung
        for missed in Appointment.objects.select_for_update(skip_locked=True).filter(
            status=Appointment.Status.BOOKED, starts_at__lte=now - RING_LATE_LIMIT
        ):
            missed.status = Appointment.Status.CANCELLED
            missed.cancelled_at = now
            missed.save(update_fields=["status", "cancelled_at"])
            _release(missed, "Booked session could not start")
    due = list(
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            starts_at__lte=now,
            starts_at__gt=now - RING_LATE_LIMIT,
        ).values_list("pk", flat=True)
    )
    rung = 0
    for appointment_id in due:
        # The booking's hold is released and the booking marked started under its lock;
        # the call is requested after that commits, so no lock waits on LiveKit.
        with transaction.atomic():
            appointment = (
                Appointment.objects.select_for_update(skip_locked=True)
                .select_related("caller", "advisor")
                .filter(pk=appointment_id, status=Appointment.Status.BOOKED)
                .first()
            )
            if appointment is None:
                continue
            _release(appointment, "Booked session starting")
            appointment.status = Appointment.Status.STARTED
            appointment.save(update_fields=["status"])
        try:
            call = call_services.call_request(
                caller=appointment.caller,
                advisor_id=appointment.advisor_id,
                kind=appointment.kind,
                booked=True,
            )
        except DomainError as refusal:  # the advisor or caller is in another call, …
            logger.warning("booking %s could not ring: %s", appointment_id, refusal.code)
            with transaction.atomic():
                Appointment.objects.filter(pk=appointment_id).update(
                    status=Appointment.Status.CANCELLED, cancelled_at=timezone.now()
                )
                push_request(
                    user_ids=[appointment.caller_id, appointment.advisor.user_id],
                    kind="appointment_failed",
                    data={"appointment_id": appointment_id},
                    title=_("Your booked session could not start"),
                )
            continue
        with transaction.atomic():
            Appointment.objects.filter(pk=appointment_id).update(call_id_started=call.pk)
            push_request(
                user_ids=[appointment.caller_id],
                kind="appointment_starting",
                urgent=True,
                data={"appointment_id": appointment_id, "call_id": call.pk},
                title=_("Your session starts now"),
            )
        rung += 1
    return rung
