"""The call lifecycle: request, ring, accept, talk, bill, end, settle (docs/architecture.md §5).

Money moves only through the ledger: a hold sized for the licensee's minimum when the call is
requested, extended ahead of the talk while it runs, and one settlement transaction at the
end that captures what was talked and releases the rest. LiveKit's webhooks are hints that
move presence along; our own state, checked against LiveKit's room service by the
reconciler, is the truth.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import livekit_gateway, talk
from tenant_apps.calls.errors import (
    AdvisorUnavailable,
    CallerBusy,
    CallNotFound,
    CallStateConflict,
    NotASandbox,
    ReviewRefused,
    SpendingCapReached,
    WalletOwes,
)
from tenant_apps.calls.models import Call, LiveKitEvent, Review, SpendingCap
from tenant_apps.notifications.services import push_request
from tenant_apps.pricing import charges
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets import services as wallet_services
from tenant_apps.wallets.errors import InsufficientFunds
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for

logger = logging.getLogger(__name__)

BILLING_TICK_SECONDS = 10
# The hold is kept this far ahead of the talk, so the next minutes are always paid for.
HOLD_LOOKAHEAD_SECONDS = 120
# Accepted, but nobody came into the room: end it after the grace period and this much more.
NO_SHOW_EXTRA_SECONDS = 60


def identity_of(user_id: int) -> str:
    """A user's identity in LiveKit rooms (no personal data)."""
    return f"u{user_id}"


def room_name_for(call: Call) -> str:
    return f"{connection.schema_name}-{call.pk}"


def _month_spent_minor(caller_id: int) -> int:
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total = Call.objects.filter(caller_id=caller_id, settled_at__gte=start).aggregate(
        total=Sum("cost_minor")
    )["total"]
    return total or 0


def _cap_headroom(caller_id: int, already_held: int = 0) -> int | None:
    """What the caller's own monthly cap still allows beyond `already_held`, or None."""
    cap = SpendingCap.objects.filter(user_id=caller_id).first()
    if cap is None:
        return None
    return max(0, cap.monthly_limit_minor - _month_spent_minor(caller_id) - already_held)


def _after_commit(actor, *args, delay_ms: int | None = None) -> None:
    def send():
        if delay_ms:
            actor.send_with_options(args=args, delay=delay_ms)
        else:
            actor.send(*args)

    transaction.on_commit(send)


# --- Requesting, ringing, answering ---------------------------------------------------------


def call_request(*, caller: User, advisor_id: int) -> Call:
    from tenant_apps.calls import tasks

    policy = policy_get()
    with transaction.atomic():
        advisor = Advisor.objects.select_for_update().filter(pk=advisor_id, suspended=False).first()
        if advisor is None:
            raise CallNotFound("There is no such advisor.", field="advisor_id")
        if advisor.status != Advisor.Status.ONLINE:
            raise AdvisorUnavailable(
                f"{advisor.display_name} is not available right now.", field="advisor_id"
            )
        if Call.objects.filter(caller=caller, status__in=["ringing", "connected"]).exists():
            raise CallerBusy("You are already in a call.", field=None)
        balance = wallet_selectors.wallet_balance_get(user_id=caller.pk)
        if balance.owed_minor > 0:
            raise WalletOwes(
                "Your account has an open balance to settle before you can call.", field=None
            )
        rate = advisor.rate_minor_per_minute
        first_minimum = charges.charge_minor(
            seconds=policy.minimum_minutes * 60,
            rate_minor_per_minute=rate,
            billing_mode=policy.billing_mode,
        )
        if balance.available_minor < first_minimum:
            raise InsufficientFunds(
                f"You need credit for at least {policy.minimum_minutes} minutes to call "
                f"{advisor.display_name}.",
                field="advisor_id",
            )
        headroom = _cap_headroom(caller.pk)
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
                    rate_minor_per_minute=rate,
                    billing_mode=policy.billing_mode,
                    free_seconds=0 if talked_before else policy.intro_free_seconds,
                    currency=connection.tenant.currency,
                    held_minor=first_minimum,
                )
        except IntegrityError:  # lost a race for this advisor or caller
            raise AdvisorUnavailable(
                f"{advisor.display_name} is not available right now.", field="advisor_id"
            ) from None
        wallet_services.hold_place(
            user_id=caller.pk,
            amount_minor=first_minimum,
            idempotency_key=f"call:{call.pk}:hold:0",
            description=f"Reserved for a call with {advisor.display_name}",
            metadata={"call_id": call.pk},
        )
        call.room_name = room_name_for(call)
        call.save(update_fields=["room_name"])
        advisor.status = Advisor.Status.BUSY
        advisor.save(update_fields=["status"])
        livekit_gateway.room_create(
            name=call.room_name, empty_timeout_seconds=policy.ring_timeout_seconds * 4
        )
        push_request(
            user_ids=[advisor.user_id],
            kind="incoming_call",
            urgent=True,
            data={"call_id": call.pk, "caller_name": caller.display_name, "room": call.room_name},
            title="Incoming call",
            body=f"{caller.display_name or 'A caller'} is calling you",
        )
        _after_commit(tasks.call_ring_timeout, call.pk, delay_ms=policy.ring_timeout_seconds * 1000)
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
    advisor.save(update_fields=["missed_in_row", "status"])


def _close_unanswered(call: Call, status: str, reason: str) -> None:
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
    _advisor_available_again(call.advisor_id, missed=status == Call.Status.MISSED)
    if call.room_name:
        _after_commit(tasks.room_close, call.room_name)


def _ring_expired(call: Call, now: datetime) -> bool:
    return now >= call.created_at + timedelta(seconds=policy_get().ring_timeout_seconds)


def call_accept(*, user: User, call_id: int) -> Call:
    from tenant_apps.calls import tasks

    with transaction.atomic():
        call = _call_for_party(user, call_id)
        if call.advisor.user_id != user.pk:
            raise CallStateConflict("Only the advisor can accept a call.", field="call_id")
        too_late = call.status == Call.Status.RINGING and _ring_expired(call, timezone.now())
        if too_late:  # the timeout job is late: close it as missed (and keep that)
            _close_unanswered(call, Call.Status.MISSED, "ring_timeout")
        elif call.status == Call.Status.RINGING:
            call.status = Call.Status.CONNECTED
            call.accepted_at = timezone.now()
            _replay_presence(call)
            call.save()
            Advisor.objects.filter(pk=call.advisor_id).update(missed_in_row=0)
            _after_commit(tasks.call_bill, call.pk, delay_ms=BILLING_TICK_SECONDS * 1000)
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
        _close_unanswered(call, Call.Status.DECLINED, "declined")
    return call


def call_ring_timeout(*, call_id: int) -> str:
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id).first()
        if call is None or call.status != Call.Status.RINGING:
            return "not ringing"
        if not _ring_expired(call, timezone.now()):
            return "still ringing"
        _close_unanswered(call, Call.Status.MISSED, "ring_timeout")
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
        room=call.room_name,
        identity=identity_of(user.pk),
        display_name=user.display_name or ("Caller" if is_caller else "Advisor"),
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
    livekit_gateway.sandbox_disconnect(room=call.room_name, identity=identity_of(user.pk))


def call_hangup(*, user: User, call_id: int) -> Call:
    with transaction.atomic():
        call = _call_for_party(user, call_id)
        is_caller = user.pk == call.caller_id
        if call.status == Call.Status.RINGING:
            if is_caller:
                _close_unanswered(call, Call.Status.CANCELLED, "cancelled_by_caller")
            else:
                _close_unanswered(call, Call.Status.DECLINED, "declined")
        elif call.status == Call.Status.CONNECTED:
            _end(call, timezone.now(), "hangup_caller" if is_caller else "hangup_advisor")
        else:
            raise CallStateConflict(f"The call is already {call.status}.", field="call_id")
    return call


# --- Talk, billing and the end of a call ---------------------------------------------------


def _end(call: Call, moment: datetime, reason: str) -> None:
    """End a connected call at `moment` and settle it, in the caller's transaction."""
    from tenant_apps.calls import tasks

    talk.close_segment(call, moment)
    _extend_hold(call, call.talk_seconds_closed, lookahead_seconds=0)  # if a tick lagged
    covered = talk.talk_seconds_covered(call)
    call.talk_seconds = min(call.talk_seconds_closed, covered)
    call.status = Call.Status.COMPLETED
    call.end_reason = reason
    call.ended_at = timezone.now()
    _settle(call)
    _advisor_available_again(call.advisor_id)
    _after_commit(tasks.room_close, call.room_name)


def _settle(call: Call) -> None:
    """One ledger transaction per call: capture the talked amount from the hold into the
    advisor's earnings, the licensee's revenue and Callrix's fee; release the rest."""
    policy = policy_get()
    cost = min(talk.cost_for(call, call.talk_seconds), call.held_minor)
    parts = charges.split(
        amount_minor=cost,
        advisor_share_bps=policy.advisor_share_bps,
        callrix_fee_bps=policy.callrix_fee_bps,
    )
    credits = [
        Leg(
            account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=call.advisor.user_id),
            parts.advisor_minor,
        ),
        Leg(account_for(kind=AccountKind.LICENSEE_REVENUE), parts.licensee_minor),
        Leg(account_for(kind=AccountKind.CALLRIX_FEE), parts.callrix_minor),
    ]
    wallet_services.hold_capture(
        user_id=call.caller_id,
        credits=[leg for leg in credits if leg.amount_minor],
        release_minor=call.held_minor - cost,
        idempotency_key=f"call:{call.pk}:settle",
        description=f"Call with {call.advisor.display_name}: {call.talk_seconds} s",
        metadata={
            "call_id": call.pk,
            "talk_seconds": call.talk_seconds,
            "rate_minor_per_minute": call.rate_minor_per_minute,
        },
    )
    call.cost_minor = cost
    call.advisor_minor = parts.advisor_minor
    call.licensee_minor = parts.licensee_minor
    call.callrix_minor = parts.callrix_minor
    call.settled_at = timezone.now()
    call.save()


def call_history_record(*, caller: User, advisor: Advisor, talk_seconds: int) -> Call:
    """A call that has already happened, written to the books at the current clock: history
    a licensee brings from its previous platform, and the demo's past weeks. It is held,
    charged and split exactly like a live call (the caller's funds must cover it), but it
    never rings anyone or opens a room."""
    policy = policy_get()
    with transaction.atomic():
        talked_before = Call.objects.filter(
            caller=caller, advisor=advisor, talk_seconds__gt=0
        ).exists()
        now = timezone.now()
        call = Call(
            caller=caller,
            advisor=advisor,
            status=Call.Status.COMPLETED,
            rate_minor_per_minute=advisor.rate_minor_per_minute,
            billing_mode=policy.billing_mode,
            free_seconds=0 if talked_before else policy.intro_free_seconds,
            currency=connection.tenant.currency,
            accepted_at=now - timedelta(seconds=talk_seconds),
            talk_started_at=now - timedelta(seconds=talk_seconds),
            ended_at=now,
            end_reason="history",
            talk_seconds=talk_seconds,
            talk_seconds_closed=talk_seconds,
        )
        call.held_minor = talk.cost_for(call, talk_seconds)
        if call.held_minor <= 0:
            raise CallStateConflict("A call within its free seconds has nothing to record.")
        call.save()
        call.room_name = room_name_for(call)
        wallet_services.hold_place(
            user_id=caller.pk,
            amount_minor=call.held_minor,
            idempotency_key=f"call:{call.pk}:hold:0",
            description=f"Reserved for a call with {advisor.display_name}",
            metadata={"call_id": call.pk},
        )
        _settle(call)
    return call


def _extend_hold(
    call: Call, talk_now: int, lookahead_seconds: int = HOLD_LOOKAHEAD_SECONDS
) -> None:
    wanted = talk.cost_for(call, talk_now + lookahead_seconds) - call.held_minor
    if wanted <= 0:
        return
    available = wallet_selectors.wallet_balance_get(user_id=call.caller_id).available_minor
    headroom = _cap_headroom(call.caller_id, already_held=call.held_minor)
    extra = min(wanted, available, headroom if headroom is not None else wanted)
    if extra <= 0:
        return
    try:
        wallet_services.hold_place(
            user_id=call.caller_id,
            amount_minor=extra,
            idempotency_key=f"call:{call.pk}:hold:{call.hold_extensions + 1}",
            description="More time reserved for a call",
            metadata={"call_id": call.pk},
        )
    except InsufficientFunds:
        # The wallet shrank since we looked (a refund or dispute landed): the posting's own
        # savepoint rolled back; this tick extends nothing and the next one looks again.
        return
    call.hold_extensions += 1
    call.held_minor += extra


def _bill(call: Call, now: datetime) -> str:
    """Bring a connected call up to `now`: extend its hold, warn, or end it."""
    from tenant_apps.calls import tasks

    policy = policy_get()
    if call.segment_started_at is None:
        if call.absent_since and now - call.absent_since > timedelta(seconds=policy.grace_seconds):
            _end(call, call.absent_since, "party_left")
            return "ended: party did not come back"
        no_show = timedelta(seconds=policy.grace_seconds + NO_SHOW_EXTRA_SECONDS)
        if call.talk_started_at is None and call.accepted_at and now - call.accepted_at > no_show:
            _end(call, now, "no_show")
            return "ended: nobody joined"
        return "waiting"
    talk_now = talk.talk_seconds_at(call, now)
    _extend_hold(call, talk_now)
    covered = talk.talk_seconds_covered(call)
    if talk_now >= covered:
        ran_out = call.segment_started_at + timedelta(seconds=covered - call.talk_seconds_closed)
        _end(call, ran_out, "funds_exhausted")
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
    call.save()
    return "billing"


def call_bill(*, call_id: int) -> str:
    """The billing tick of one call (repeats every BILLING_TICK_SECONDS while it runs)."""
    from tenant_apps.calls import tasks

    with transaction.atomic():
        call = (
            Call.objects.select_for_update(skip_locked=True)
            .select_related("advisor")
            .filter(pk=call_id)
            .first()
        )
        if call is None:
            return "busy or gone"  # someone else is working on it right now
        if call.status != Call.Status.CONNECTED:
            return call.status
        outcome = _bill(call, timezone.now())
        if call.status == Call.Status.CONNECTED:
            _after_commit(tasks.call_bill, call.pk, delay_ms=BILLING_TICK_SECONDS * 1000)
    return outcome


# --- LiveKit's webhooks ----------------------------------------------------------------------


def _moment(event: dict) -> datetime:
    seconds = int(event.get("created_at") or 0)
    if seconds <= 0:
        return timezone.now()
    return datetime.fromtimestamp(seconds, tz=UTC)


def _party(call: Call, identity: str) -> str | None:
    if identity == identity_of(call.caller_id):
        return "caller"
    if identity == identity_of(call.advisor.user_id):
        return "advisor"
    return None


def _replay_presence(call: Call) -> None:
    """Recompute presence and talk from every presence event of the call's room."""
    changes = []
    for record in LiveKitEvent.objects.filter(
        room_name=call.room_name, event__in=["participant_joined", "participant_left"]
    ).order_by("occurred_at", "id"):
        party = _party(call, record.participant_identity)
        if party:
            changes.append((record.occurred_at, party, record.event == "participant_joined"))
    talk.replay(call, changes)


def _observe(call: Call, party: str, present: bool, moment: datetime) -> None:
    """Record what the reconciler saw in the room, as if LiveKit had told us."""
    identity = identity_of(call.caller_id if party == "caller" else call.advisor.user_id)
    LiveKitEvent.objects.create(
        event_id=f"reconciler-{call.pk}-{party}-{moment.timestamp():.0f}-{int(present)}",
        event="participant_joined" if present else "participant_left",
        room_name=call.room_name,
        participant_identity=identity,
        source="reconciler",
        occurred_at=moment,
    )


def livekit_event_apply(*, event: dict) -> str:
    """Apply one verified LiveKit webhook (in the licensee's schema), once by its id."""
    with transaction.atomic():
        moment = _moment(event)
        try:
            with transaction.atomic():
                record = LiveKitEvent.objects.create(
                    event_id=event["id"],
                    event=event["event"],
                    room_name=event["room_name"],
                    participant_identity=event.get("participant_identity") or "",
                    occurred_at=moment,
                )
        except IntegrityError:
            return "duplicate"
        call = (
            Call.objects.select_for_update()
            .select_related("advisor")
            .filter(room_name=event["room_name"])
            .first()
        )
        if call is None:
            outcome = "ignored: no such call"
        elif call.status not in (Call.Status.RINGING, Call.Status.CONNECTED):
            outcome = f"ignored: call {call.status}"
        elif event["event"] in ("participant_joined", "participant_left"):
            party = _party(call, record.participant_identity)
            if party is None:
                outcome = "ignored: not a party of this call"
            else:
                _replay_presence(call)
                call.save()
                outcome = f"{party} {event['event'].removeprefix('participant_')}"
        elif event["event"] == "room_finished" and call.status == Call.Status.CONNECTED:
            _end(call, moment, "room_finished")
            outcome = "ended"
        else:
            outcome = "ignored"
        record.outcome = outcome[:120]
        record.save(update_fields=["outcome"])
    return outcome


# --- The reconciler ---------------------------------------------------------------------------


def _reconcile_one(call: Call, now: datetime) -> str:
    if call.status == Call.Status.RINGING:
        if _ring_expired(call, now):
            _close_unanswered(call, Call.Status.MISSED, "ring_timeout")
            return "missed"
        return "ringing"
    try:
        present = livekit_gateway.room_participants(name=call.room_name)
    except Exception as error:  # LiveKit unreachable: bill on what we know, check next time
        logger.warning("reconciler could not ask LiveKit about %s: %s", call.room_name, error)
        present = []
    if present is None:  # the room is gone and its webhooks never came
        end_at = call.last_seen_both_at or call.segment_started_at or now
        _end(call, min(end_at, now), "room_gone")
        return "ended: room gone"
    caller_in = identity_of(call.caller_id) in present
    advisor_in = identity_of(call.advisor.user_id) in present
    if caller_in and advisor_in:
        call.last_seen_both_at = now
    if (caller_in, advisor_in) != (call.caller_present, call.advisor_present):
        # Webhooks were lost: take LiveKit's word for who is in the room now.
        for party, inside in (("caller", caller_in), ("advisor", advisor_in)):
            if getattr(call, f"{party}_present") != inside:
                _observe(call, party, inside, now)
        _replay_presence(call)
    return _bill(call, now)


def calls_reconcile() -> dict[str, int]:
    """End what should have ended and bill what runs. Safe to run twice at once: each call
    is taken with SKIP LOCKED, and every money movement is idempotent."""
    outcomes: dict[str, int] = {}
    ids = list(
        Call.objects.filter(status__in=["ringing", "connected"]).values_list("pk", flat=True)
    )
    for call_id in ids:
        with transaction.atomic():
            call = (
                Call.objects.select_for_update(skip_locked=True)
                .select_related("advisor")
                .filter(pk=call_id, status__in=["ringing", "connected"])
                .first()
            )
            if call is None:
                continue
            outcome = _reconcile_one(call, timezone.now()).split(":")[0]
            call.save()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


# --- Reviews and caps -------------------------------------------------------------------------

REVIEW_MIN_TALK_SECONDS = 60


def review_create(*, caller: User, call_id: int, rating: int, comment: str = "") -> Review:
    if not 1 <= rating <= 5:
        raise ReviewRefused("Rate from 1 to 5.", field="rating")
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id, caller=caller).first()
        if call is None:
            raise CallNotFound("There is no such call.", field="call_id")
        if call.status != Call.Status.COMPLETED or call.talk_seconds < REVIEW_MIN_TALK_SECONDS:
            raise ReviewRefused(
                f"Only calls with at least {REVIEW_MIN_TALK_SECONDS} seconds of talk can be rated.",
                field="call_id",
            )
        if Review.objects.filter(call=call).exists():
            raise ReviewRefused("You have already rated this call.", field="call_id")
        review = Review.objects.create(
            call=call,
            caller=caller,
            advisor_id=call.advisor_id,
            rating=rating,
            comment=(comment or "").strip()[:2_000],
        )
        advisor = Advisor.objects.select_for_update().get(pk=call.advisor_id)
        advisor.rating_sum += rating
        advisor.rating_count += 1
        advisor.save(update_fields=["rating_sum", "rating_count"])
    return review


def spending_cap_set(*, user: User, monthly_limit_minor: int | None) -> SpendingCap | None:
    if monthly_limit_minor is None:
        SpendingCap.objects.filter(user=user).delete()
        return None
    cap, _ = SpendingCap.objects.update_or_create(
        user=user, defaults={"monthly_limit_minor": monthly_limit_minor}
    )
    return cap
