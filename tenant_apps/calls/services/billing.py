"""A call's money, which moves only through the ledger: a hold sized for the licensee's minimum
when the call is requested, extended in chunks ahead of the talk while it runs, and one
settlement transaction at the end that captures what was talked and releases the rest. The
caller's own monthly spending cap bounds every hold.

The billing job that refills the hold at its due time, and ends a call whose funds ran out,
belongs to the call's lifecycle (`lifecycle.call_bill`); the functions here run inside its
transaction (docs/decisions/0009-due-time-billing.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from identity.models import User
from tenant_apps.advisors import selectors as advisor_selectors
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import talk
from tenant_apps.calls.errors import CallStateConflict
from tenant_apps.calls.models import Call, SpendingCap
from tenant_apps.calls.services.rooms import room_name_for
from tenant_apps.pricing import charges
from tenant_apps.pricing.selectors import callrix_fee_bps_at, policy_get
from tenant_apps.promotions.services import promotion_session_settled
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets import services as wallet_services
from tenant_apps.wallets.errors import InsufficientFunds
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for
from tenants.bridge import licensee_current

# A refill extends the hold this far ahead of the talk (as far as the wallet and the spending
# cap allow): one ledger posting buys ten minutes of talk, so a call costs a billing job every
# eight minutes or so rather than one every few seconds. The caller's money is only reserved,
# and the settlement releases what was not talked.
HOLD_LOOKAHEAD_SECONDS = 600
# A refill is due this long before the low-credit warning would be, so a caller whose wallet
# can pay on is never warned.
HOLD_REFILL_MARGIN_SECONDS = 30


def _month_spent_minor(caller_id: int) -> int:
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total = Call.objects.filter(caller_id=caller_id, settled_at__gte=start).aggregate(
        total=Sum("cost_minor")
    )["total"]
    return total or 0


def cap_headroom(caller_id: int, already_held: int = 0) -> int | None:
    """What the caller's own monthly cap still allows beyond `already_held`, or None."""
    cap = SpendingCap.objects.filter(user_id=caller_id).first()
    if cap is None:
        return None
    return max(0, cap.monthly_limit_minor - _month_spent_minor(caller_id) - already_held)


def hold_extend(call: Call, talk_now: int, lookahead_seconds: int = HOLD_LOOKAHEAD_SECONDS) -> None:
    wanted = talk.cost_for(call, talk_now + lookahead_seconds) - call.held_minor
    if wanted <= 0:
        return
    available = wallet_selectors.wallet_balance_get(user_id=call.caller_id).available_minor
    headroom = cap_headroom(call.caller_id, already_held=call.held_minor)
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


def hold_runs_out_at(call: Call) -> datetime | None:
    """The moment the open talk segment uses up what is held, or None when nobody talks."""
    if call.segment_started_at is None:
        return None
    left = talk.talk_seconds_covered(call) - call.talk_seconds_closed
    return call.segment_started_at + timedelta(seconds=max(0, left))


def hold_refill_wanted(call: Call, talk_now: int, warning_seconds: int) -> bool:
    """Whether the hold is close enough to running out for its next chunk."""
    left = talk.talk_seconds_covered(call) - talk_now
    return left <= warning_seconds + HOLD_REFILL_MARGIN_SECONDS


def advisor_month_minutes(advisor_id: int) -> int:
    """Talk minutes the advisor's calls settled this calendar month (UTC), before this one."""
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    seconds = Call.objects.filter(advisor_id=advisor_id, settled_at__gte=start).aggregate(
        total=Sum("talk_seconds")
    )["total"]
    return (seconds or 0) // 60


def advisor_share_bps(call: Call, default_bps: int, fee_bps: int) -> int:
    """The advisor's own commission (fixed, or the tier this month's minutes reached) or the
    licensee-wide share; never so much that it cuts into Callrix's fee."""
    own = advisor_selectors.commission_share_bps(
        advisor_id=call.advisor_id, month_minutes=advisor_month_minutes(call.advisor_id)
    )
    share = default_bps if own is None else own
    return max(0, min(share, 10_000 - fee_bps))


def call_settle(call: Call) -> None:
    """One ledger transaction per call: capture the talked amount from the hold into the
    advisor's earnings, the licensee's revenue and Callrix's fee; release the rest. A
    promotion code's free seconds are paid in the same transaction from promotion credit and
    shared out like paid talk (as a top-up bonus spent on a call is)."""
    policy = policy_get()
    cost = min(talk.cost_for(call, call.talk_seconds), call.held_minor)
    promotion = talk.promotion_value_for(call, call.talk_seconds)
    # The fee in force when the call started, whatever the plan says by now.
    fee_bps = callrix_fee_bps_at(call.created_at, policy)
    advisor_bps = advisor_share_bps(call, policy.advisor_share_bps, fee_bps)
    parts = charges.split(
        amount_minor=cost + promotion, advisor_share_bps=advisor_bps, callrix_fee_bps=fee_bps
    )
    credits = [
        Leg(
            account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=call.advisor.user_id),
            parts.advisor_minor,
        ),
        Leg(account_for(kind=AccountKind.LICENSEE_REVENUE), parts.licensee_minor),
        Leg(account_for(kind=AccountKind.CALLRIX_FEE), parts.callrix_minor),
        Leg(account_for(kind=AccountKind.PROMOTION_CREDIT), -promotion),
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
            "advisor_share_bps": advisor_bps,
            "callrix_fee_bps": fee_bps,
            "promotion_minor": promotion,
        },
    )
    if call.promotion_seconds:
        promotion_session_settled(call_id=call.pk, value_minor=promotion)
    call.cost_minor = cost
    call.promotion_minor = promotion
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
            currency=licensee_current().currency,
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
        call_settle(call)
    return call


def spending_cap_set(*, user: User, monthly_limit_minor: int | None) -> SpendingCap | None:
    if monthly_limit_minor is None:
        SpendingCap.objects.filter(user=user).delete()
        return None
    cap, _ = SpendingCap.objects.update_or_create(
        user=user, defaults={"monthly_limit_minor": monthly_limit_minor}
    )
    return cap
