"""A call's lifecycle (docs/architecture.md §5): request, ring, accept or decline, join, talk, end.

Each step is one transaction that locks the call; the jobs it starts (the ring timeout, the
billing job at the call's next due time, closing the room) are queued only once it commits.
The money of each step goes through `billing`; who is in the room comes from `rooms`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from dramatiq import Actor

from identity.models import User
from identity.services import user_lock
from kernel.job_outbox.services import job_send_on_commit
from tenant_apps.advisors.models import Advisor, SessionKind
from tenant_apps.calls import livekit_gateway, talk
from tenant_apps.calls.errors import (
    AdvisorUnavailable,
    CallerBusy,
    CallNotFound,
    CallStateConflict,
    LiveKitUnavailable,
    NotASandbox,
    SpendingCapReached,
)
from tenant_apps.calls.models import Call, QueueEntry
from tenant_apps.calls.services.admission import session_admit
from tenant_apps.calls.services.billing import (
    HOLD_LOOKAHEAD_SECONDS,
    HOLD_REFILL_MARGIN_SECONDS,
    call_settle,
    cap_headroom,
    hold_extend,
    hold_refill_wanted,
    hold_runs_out_at,
)
from tenant_apps.calls.services.queue import queue_offer_claim, queue_offer_next
from tenant_apps.calls.services.rooms import identity_of, presence_replay, room_name_for, room_of
from tenant_apps.notifications.services import push_request
from tenant_apps.pricing.models import PricingPolicy
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.promotions.services import promotion_session_redeem, promotion_session_settled
from tenant_apps.wallets import services as wallet_services
from tenants.bridge import licensee_current

# What the billing job used to poll at; the reconciler's pass remains the backstop for a lost
# due-time job, and nothing waits on this any more but callers that read it.
BILLING_TICK_SECONDS = 10
# Accepted, but nobody came into the room: end it after the grace period and this much more.
NO_SHOW_EXTRA_SECONDS = 60


def _after_commit(actor: Actor[..., Any], *args: object, delay_ms: int | None = None) -> None:
    job_send_on_commit(actor, *args, delay_ms=delay_ms)


# --- Requesting, ringing, answering ---------------------------------------------------------


def _ring_text(kind: str, caller_name: str) -> tuple[str, str]:
    who = caller_name or _("A caller")
    if kind == SessionKind.CHAT:
        return _("Incoming chat"), _("%(name)s wants to chat with you") % {"name": who}
    if kind == SessionKind.VIDEO:
        return _("Incoming video call"), _("%(name)s is video calling you") % {"name": who}
    return _("Incoming call"), _("%(name)s is calling you") % {"name": who}


def call_request(
    *,
    caller: User,
    advisor_id: int,
    kind: str = SessionKind.VOICE,
    promo_code: str | None = None,
    booked: bool = False,
) -> Call:
    """Ring an advisor. `booked`: a booked session at its time, which rings the advisor
    whether they are online or offline (never while they are in another session)."""
    from tenant_apps.calls import tasks

    policy = policy_get()
    offer: QueueEntry | None = None

    def advisor_free_for_caller(advisor: Advisor) -> None:
        # A busy advisor may be reserved for this caller: the first in their line.
        nonlocal offer
        if advisor.status == Advisor.Status.BUSY:
            offer = queue_offer_claim(caller=caller, advisor=advisor)
        free_for_booking = booked and advisor.status == Advisor.Status.OFFLINE
        if advisor.status != Advisor.Status.ONLINE and offer is None and not free_for_booking:
            raise AdvisorUnavailable(
                f"{advisor.display_name} is not available right now.", field="advisor_id"
            )
        if Call.objects.filter(caller=caller, status__in=["ringing", "connected"]).exists():
            raise CallerBusy("You are already in a call.", field=None)

    with transaction.atomic():
        # The caller first (as erasure and top-ups take it), then the advisor: an erasure
        # committing meanwhile is seen here, and one starting now waits for this call.
        user_lock(user_id=caller.pk)
        admitted = session_admit(
            caller=caller,
            advisor_id=advisor_id,
            kind=kind,
            purpose="call",
            advisor_check=advisor_free_for_caller,
        )
        advisor = admitted.advisor
        rate, first_minimum = admitted.rate_minor_per_minute, admitted.minimum_minor
        headroom = cap_headroom(caller.pk)
        if headroom is not None and headroom < first_minimum:
            raise SpendingCapReached(
                "This call would go beyond your monthly spending limit.", field="advisor_id"
            )
        talked_before = Call.objects.filter(
            caller=caller, advisor=advisor, talk_seconds__gt=0
        ).exists()
        try:
            with transaction.atomic():
                call = Call.objects.create(
                    caller=caller,
                    advisor=advisor,
                    kind=kind,
                    rate_minor_per_minute=rate,
                    billing_mode=policy.billing_mode,
                    free_seconds=0 if talked_before else policy.intro_free_seconds,
                    currency=licensee_current().currency,
                    held_minor=first_minimum,
                )
        except IntegrityError:  # lost a race for this advisor or caller
            raise AdvisorUnavailable(
                f"{advisor.display_name} is not available right now.", field="advisor_id"
            ) from None
        if promo_code:  # free seconds on a first session with this advisor
            use = promotion_session_redeem(
                user=caller, code=promo_code, call_id=call.pk, first_session=not talked_before
            )
            if use.free_seconds > call.free_seconds:  # the code's seconds replace the intro's
                call.free_seconds = call.promotion_seconds = use.free_seconds
            else:  # the licensee's intro seconds already give more: the code gives nothing
                promotion_session_settled(call_id=call.pk, value_minor=0)
        wallet_services.hold_place(
            user_id=caller.pk,
            amount_minor=first_minimum,
            idempotency_key=f"call:{call.pk}:hold:0",
            description=f"Reserved for a call with {advisor.display_name}",
            metadata={"call_id": call.pk},
        )
        if offer is not None:
            offer.status = QueueEntry.Status.ACCEPTED
            offer.call = call
            offer.ended_at = timezone.now()
            offer.save(update_fields=["status", "call", "ended_at"])
        call.room_name = room_name_for(call)
        call.save(update_fields=["room_name", "free_seconds", "promotion_seconds"])
        advisor.status = Advisor.Status.BUSY
        advisor.save(update_fields=["status"])
        _after_commit(tasks.call_ring_timeout, call.pk, delay_ms=policy.ring_timeout_seconds * 1000)
    # LiveKit is asked only once the locks are released (a slow LiveKit must not hold the
    # caller and the advisor); if it cannot open the room, the call closes and the hold goes
    # back, in a transaction of its own.
    try:
        livekit_gateway.room_create(
            name=call.room_name, empty_timeout_seconds=policy.ring_timeout_seconds * 4
        )
    except LiveKitUnavailable:
        with transaction.atomic():
            failed = Call.objects.select_for_update().get(pk=call.pk)
            if failed.status == Call.Status.RINGING:
                call_close_unanswered(failed, Call.Status.CANCELLED, "provider_unreachable")
        raise
    with transaction.atomic():
        title, body = _ring_text(kind, caller.display_name)
        push_request(
            user_ids=[advisor.user_id],
            kind="incoming_call",
            urgent=True,
            data={
                "call_id": call.pk,
                "caller_name": caller.display_name,
                "room": call.room_name,
                "session_kind": kind,
            },
            title=title,
            body=body,
        )
    return call


def _call_for_party(user: User, call_id: int) -> Call:
    """The call, locked — if this user is its caller or its advisor (else: not found)."""
    call = Call.objects.select_for_update().select_related("advisor").filter(pk=call_id).first()
    if call is None or user.pk not in (call.caller_id, call.advisor.user_id):
        raise CallNotFound("There is no such call.", field="call_id")
    return call


def _advisor_available_again(advisor_id: int, *, missed: bool = False) -> None:
    advisor = Advisor.objects.select_for_update().get(pk=advisor_id)
    policy = policy_get()
    advisor.missed_in_row = advisor.missed_in_row + 1 if missed else 0
    if advisor.status == Advisor.Status.BUSY:
        too_many = (
            policy.offline_after_missed and advisor.missed_in_row >= policy.offline_after_missed
        )
        advisor.status = (
            Advisor.Status.OFFLINE if advisor.suspended or too_many else Advisor.Status.ONLINE
        )
        if advisor.status == Advisor.Status.ONLINE and queue_offer_next(advisor) is not None:
            advisor.status = Advisor.Status.BUSY  # reserved for the first in line
    advisor.save(update_fields=["missed_in_row", "status"])


def call_close_unanswered(call: Call, status: str, reason: str) -> None:
    from tenant_apps.calls import tasks

    call.status = status
    call.end_reason = reason
    call.ended_at = timezone.now()
    call.save(update_fields=["status", "end_reason", "ended_at"])
    if call.held_minor:
        wallet_services.hold_release(
            user_id=call.caller_id,
            amount_minor=call.held_minor,
            idempotency_key=f"call:{call.pk}:release",
            description="Call not answered",
            metadata={"call_id": call.pk},
        )
    if call.promotion_seconds:  # nothing was talked: the code is the caller's to use again
        promotion_session_settled(call_id=call.pk, value_minor=0)
    _advisor_available_again(call.advisor_id, missed=status == Call.Status.MISSED)
    if call.room_name:
        _after_commit(tasks.room_close, call.room_name)


def ring_expired(call: Call, now: datetime) -> bool:
    return now >= call.created_at + timedelta(seconds=policy_get().ring_timeout_seconds)


def call_accept(*, user: User, call_id: int) -> Call:
    with transaction.atomic():
        call = _call_for_party(user, call_id)
        if call.advisor.user_id != user.pk:
            raise CallStateConflict("Only the advisor can accept a call.", field="call_id")
        too_late = call.status == Call.Status.RINGING and ring_expired(call, timezone.now())
        if too_late:  # the timeout job is late: close it as missed (and keep that)
            call_close_unanswered(call, Call.Status.MISSED, "ring_timeout")
        elif call.status == Call.Status.RINGING:
            call.status = Call.Status.CONNECTED
            call.accepted_at = timezone.now()
            presence_replay(call)
            billing_schedule(call, call.accepted_at)
            call.save()
            Advisor.objects.filter(pk=call.advisor_id).update(missed_in_row=0)
    if call.status != Call.Status.CONNECTED:
        raise CallStateConflict(f"The call is {call.status}.", field="call_id")
    return call


def call_decline(*, user: User, call_id: int) -> Call:
    with transaction.atomic():
        call = _call_for_party(user, call_id)
        if call.advisor.user_id != user.pk:
            raise CallStateConflict("Only the advisor can decline a call.", field="call_id")
        if call.status != Call.Status.RINGING:
            raise CallStateConflict(f"The call is {call.status}.", field="call_id")
        call_close_unanswered(call, Call.Status.DECLINED, "declined")
    return call


def call_ring_timeout(*, call_id: int) -> str:
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id).first()
        if call is None or call.status != Call.Status.RINGING:
            return "not ringing"
        if not ring_expired(call, timezone.now()):
            return "still ringing"
        call_close_unanswered(call, Call.Status.MISSED, "ring_timeout")
        push_request(user_ids=[call.caller_id], kind="call_missed", data={"call_id": call.pk})
    return "missed"


def call_join(*, user: User, call_id: int) -> tuple[str, str]:
    """The LiveKit URL and a short-lived token for this call's room only."""
    with transaction.atomic():
        call = _call_for_party(user, call_id)
        is_caller = user.pk == call.caller_id
        allowed = call.status == Call.Status.CONNECTED or (
            is_caller and call.status == Call.Status.RINGING
        )
        if not allowed:
            raise CallStateConflict(f"The call is {call.status}.", field="call_id")
    token = livekit_gateway.access_token_issue(
        room=room_of(call),
        identity=identity_of(user.pk),
        display_name=user.display_name or ("Caller" if is_caller else "Advisor"),
        kind=call.kind,
    )
    return settings.LIVEKIT_URL, token


def call_sandbox_presence(*, user: User, call_id: int, present: bool) -> None:
    """The offline stand-in for a browser's LiveKit connection. The sandbox carries no media,
    so the call screen's join and leave are played through it with this party's own pass;
    its signed webhooks then drive talk time, billing and the end as LiveKit's would."""
    if not livekit_gateway.is_sandbox():
        raise NotASandbox("Calls here carry real audio through LiveKit.", field=None)
    if present:
        _, token = call_join(user=user, call_id=call_id)
        livekit_gateway.sandbox_connect(token=token)
        return
    with transaction.atomic():
        call = _call_for_party(user, call_id)
    livekit_gateway.sandbox_disconnect(room=room_of(call), identity=identity_of(user.pk))


def call_hangup(*, user: User, call_id: int) -> Call:
    with transaction.atomic():
        call = _call_for_party(user, call_id)
        is_caller = user.pk == call.caller_id
        if call.status == Call.Status.RINGING:
            if is_caller:
                call_close_unanswered(call, Call.Status.CANCELLED, "cancelled_by_caller")
            else:
                call_close_unanswered(call, Call.Status.DECLINED, "declined")
        elif call.status == Call.Status.CONNECTED:
            call_end(call, timezone.now(), "hangup_caller" if is_caller else "hangup_advisor")
        else:
            raise CallStateConflict(f"The call is already {call.status}.", field="call_id")
    return call


# --- The billing tick and the end of a connected call ---------------------------------------


def call_end(call: Call, moment: datetime, reason: str) -> None:
    """End a connected call at `moment` and settle it, in the caller's transaction."""
    from tenant_apps.calls import tasks

    talk.close_segment(call, moment)
    hold_extend(call, call.talk_seconds_closed, lookahead_seconds=0)  # if a tick lagged
    covered = talk.talk_seconds_covered(call)
    call.talk_seconds = min(call.talk_seconds_closed, covered)
    call.status = Call.Status.COMPLETED
    call.end_reason = reason
    call.ended_at = timezone.now()
    call_settle(call)
    _advisor_available_again(call.advisor_id)
    _after_commit(tasks.room_close, call.room_name)


def billing_due(
    call: Call, now: datetime, *, wallet_short: bool = False, policy: PricingPolicy | None = None
) -> datetime | None:
    """When a connected call next needs its billing job: the hold's refill, the low-credit
    warning, the end of its credit, the end of a grace period or of the wait for a no-show.
    `wallet_short`: a refill just ran and could not reach its chunk (the wallet or the cap is
    short), so the next attempt waits for the warning or the end of credit."""
    if call.status != Call.Status.CONNECTED:
        return None
    policy = policy or policy_get()
    runs_out = hold_runs_out_at(call)
    if runs_out is None:
        if call.absent_since is not None:
            return call.absent_since + timedelta(seconds=policy.grace_seconds)
        if call.talk_started_at is None and call.accepted_at is not None:
            no_show = policy.grace_seconds + NO_SHOW_EXTRA_SECONDS
            return call.accepted_at + timedelta(seconds=no_show)
        return None
    warning = timedelta(seconds=policy.low_funds_warning_seconds)
    moments = [runs_out]
    if not call.low_funds_warned_at:
        moments.append(runs_out - warning)
    if not wallet_short:
        moments.append(runs_out - warning - timedelta(seconds=HOLD_REFILL_MARGIN_SECONDS))
    return max(min(moments), now)


def billing_schedule(
    call: Call, now: datetime, *, wallet_short: bool = False, policy: PricingPolicy | None = None
) -> None:
    """Queue the call's billing job for its due time, once the caller's transaction commits.
    A due time that did not move keeps its pending job; one that moved supersedes it (the old
    job finds the call due at another moment and does nothing)."""
    from tenant_apps.calls import tasks

    due = billing_due(call, now, wallet_short=wallet_short, policy=policy)
    if due == call.billing_due_at:
        return
    call.billing_due_at = due
    if due is not None:
        delay_ms = max(0, int((due - timezone.now()).total_seconds() * 1000))
        # The job that ends the call (its credit, a grace period or a no-show runs out) goes
        # on a queue of its own with priority: its settlement must not wait behind the
        # refills of thousands of other calls (docs/decisions/0009-due-time-billing.md).
        runs_out = hold_runs_out_at(call)
        actor = tasks.call_bill_end if runs_out is None or due >= runs_out else tasks.call_bill
        job_send_on_commit(actor, call.pk, due.isoformat(), delay_ms=delay_ms or None)


def call_bill_until(call: Call, now: datetime) -> str:
    """Bring a connected call up to `now`: refill its hold when due, warn, or end it; then
    queue its next billing job for the moment it is next due."""
    from tenant_apps.calls import tasks

    policy = policy_get()
    if call.segment_started_at is None:
        if call.absent_since and now - call.absent_since >= timedelta(seconds=policy.grace_seconds):
            call_end(call, call.absent_since, "party_left")
            return "ended: party did not come back"
        no_show = timedelta(seconds=policy.grace_seconds + NO_SHOW_EXTRA_SECONDS)
        if call.talk_started_at is None and call.accepted_at and now - call.accepted_at >= no_show:
            call_end(call, now, "no_show")
            return "ended: nobody joined"
        billing_schedule(call, now, policy=policy)
        return "waiting"
    talk_now = talk.talk_seconds_at(call, now)
    refill_tried = hold_refill_wanted(call, talk_now, policy.low_funds_warning_seconds)
    if refill_tried:
        hold_extend(call, talk_now)
    covered = talk.talk_seconds_covered(call)
    if talk_now >= covered:
        ran_out = call.segment_started_at + timedelta(seconds=covered - call.talk_seconds_closed)
        call_end(call, ran_out, "funds_exhausted")
        return "ended: funds exhausted"
    if covered - talk_now <= policy.low_funds_warning_seconds and not call.low_funds_warned_at:
        call.low_funds_warned_at = now
        _after_commit(
            tasks.call_in_call_event,
            call.room_name,
            identity_of(call.caller_id),
            {"type": "low_funds", "call_id": call.pk, "seconds_left": covered - talk_now},
        )
        push_request(
            user_ids=[call.caller_id],
            kind="low_funds",
            data={"call_id": call.pk, "seconds_left": covered - talk_now},
            title="Your credit is running out",
            body="Top up to keep talking.",
        )
    # A refill that could not reach its chunk waits for the warning or the end of credit.
    short = refill_tried and call.held_minor < talk.cost_for(
        call, talk_now + HOLD_LOOKAHEAD_SECONDS
    )
    billing_schedule(call, now, wallet_short=short, policy=policy)
    call.save()
    return "billing"


def call_bill(*, call_id: int, due: datetime | None = None) -> str:
    """The call's billing job, run at its due time (`billing_due`). A job whose `due` is no
    longer the call's has been superseded by a later one and does nothing."""
    with transaction.atomic():
        call = Call.objects.select_for_update().select_related("advisor").filter(pk=call_id).first()
        if call is None:
            return "gone"
        if call.status != Call.Status.CONNECTED:
            return call.status
        if due is not None and call.billing_due_at != due:
            return "superseded"
        outcome = call_bill_until(call, timezone.now())
    return outcome
