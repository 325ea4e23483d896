"""Reads: the payout policy, an advisor's payout state and earnings (derived from the ledger
and the calls they came from), and payout lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet, Sum
from django.utils import timezone

from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call
from tenant_apps.payouts import periods
from tenant_apps.payouts.models import PAYOUT_LEDGER_KINDS, Payout, PayoutAccount, PayoutPolicy
from tenant_apps.wallets.models import AccountKind, LedgerAccount, LedgerEntry
from tenant_apps.wallets.selectors import licensee_currency


@dataclass(frozen=True)
class Earnings:
    balance_minor: int  # on the advisor's earnings account now
    available_minor: int  # cleared: may be paid out
    pending_minor: int  # still inside the clearing period
    in_flight_minor: int  # in payouts whose transfer is being made
    paid_minor: int  # transferred, net of reversals
    currency: str


def policy_get() -> PayoutPolicy:
    return PayoutPolicy.objects.first() or PayoutPolicy()


def payout_account_get(*, advisor_id: int) -> PayoutAccount | None:
    return PayoutAccount.objects.filter(advisor_id=advisor_id).first()


def earnings_account_get(*, advisor: Advisor) -> LedgerAccount | None:
    return LedgerAccount.objects.filter(
        kind=AccountKind.ADVISOR_EARNINGS, owner_id=advisor.user_id
    ).first()


def _call_earnings(account: LedgerAccount) -> QuerySet[LedgerEntry]:
    """Credits from call settlements (they carry the call's id)."""
    return LedgerEntry.objects.filter(
        account=account, amount_minor__gt=0, transaction__metadata__has_key="call_id"
    )


def _total(entries: QuerySet) -> int:
    return entries.aggregate(total=Sum("amount_minor"))["total"] or 0


def earnings_get(*, advisor: Advisor, clearing_days: int, at: datetime | None = None) -> Earnings:
    """What the advisor has earned, split by whether it has cleared at `at` (default now).
    Payouts and any later debit take cleared money first, so `pending` never exceeds the
    balance and `available` is what can safely leave."""
    at = at or timezone.now()
    currency = licensee_currency()
    account = earnings_account_get(advisor=advisor)
    in_flight = (
        Payout.objects.filter(advisor=advisor, status=Payout.Status.PENDING).aggregate(
            total=Sum("amount_minor")
        )["total"]
        or 0
    )
    if account is None:
        return Earnings(0, 0, 0, in_flight, 0, currency)
    balance = max(account.balance_minor, 0)
    uncleared = _total(
        _call_earnings(account).filter(created_at__gt=at - timedelta(days=clearing_days))
    )
    pending = min(uncleared, balance)
    moved_out = -_total(
        LedgerEntry.objects.filter(account=account, transaction__kind__in=PAYOUT_LEDGER_KINDS)
    )
    return Earnings(
        balance_minor=account.balance_minor,
        available_minor=balance - pending,
        pending_minor=pending,
        in_flight_minor=in_flight,
        paid_minor=moved_out - in_flight,
        currency=currency,
    )


def earnings_lines(
    *, advisor: Advisor, clearing_days: int, limit: int, offset: int
) -> tuple[int, list[dict]]:
    """Per-call lines, newest first: the charge and its split, and when the share clears."""
    account = earnings_account_get(advisor=advisor)
    if account is None:
        return 0, []
    entries = _call_earnings(account).select_related("transaction").order_by("-id")
    page = list(entries[offset : offset + limit])
    call_ids = [int(entry.transaction.metadata["call_id"]) for entry in page]
    calls = Call.objects.filter(pk__in=call_ids, advisor=advisor).in_bulk()
    now = timezone.now()
    lines = []
    for entry, call_id in zip(page, call_ids, strict=True):
        call = calls.get(call_id)
        cleared_at = entry.created_at + timedelta(days=clearing_days)
        lines.append(
            {
                "call_id": call_id,
                "date": (call.ended_at if call else None) or entry.created_at,
                "talk_seconds": call.talk_seconds if call else 0,
                "amount_charged": call.cost_minor if call else 0,
                "advisor_share": entry.amount_minor,
                "licensee_share": call.licensee_minor if call else 0,
                "platform_fee": call.callrix_minor if call else 0,
                "callrix_fee": call.callrix_minor if call else 0,
                "cleared_at": cleared_at,
                "cleared": cleared_at <= now,
            }
        )
    return entries.count(), lines


def onboarding_status(account: PayoutAccount | None) -> str:
    if account is None or not account.stripe_account_id:
        return "not_started"
    if account.payouts_enabled:
        return "complete"
    return "restricted" if account.details_submitted else "incomplete"


def _next_payout(
    advisor: Advisor, account: PayoutAccount | None, policy: PayoutPolicy, now: datetime
) -> dict:
    """When the schedule next pays and how much will have cleared by then, assuming no new
    calls; `blocked_by` says why nothing would be paid."""
    due_now = policy.last_run_period != periods.period_key(policy.schedule, now)
    run_at = periods.next_hour(now) if due_now else periods.next_period_start(policy.schedule, now)
    amount = earnings_get(advisor=advisor, clearing_days=policy.clearing_days, at=run_at)
    blocked_by = None
    if account is None or not account.payouts_enabled:
        blocked_by = "not_onboarded"
    elif account.held:
        blocked_by = "held"
    elif amount.available_minor < policy.minimum_amount_minor:
        blocked_by = "below_minimum"
    return {"estimated_at": run_at, "amount": amount.available_minor, "blocked_by": blocked_by}


def payout_state_get(*, advisor: Advisor) -> dict:
    """Everything the advisor's payout screen shows."""
    account = payout_account_get(advisor_id=advisor.pk)
    policy = policy_get()
    now = timezone.now()
    return {
        "onboarding_status": onboarding_status(account),
        "payouts_enabled": bool(account and account.payouts_enabled),
        "requirements": list(account.requirements) if account else [],
        "disabled_reason": (account.disabled_reason if account else "") or None,
        "held": bool(account and account.held),
        "hold_reason": (account.hold_reason if account else "") or None,
        "schedule": policy.schedule,
        "minimum_amount": policy.minimum_amount_minor,
        "clearing_days": policy.clearing_days,
        "currency": licensee_currency(),
        "next_payout": _next_payout(advisor, account, policy, now),
        "payouts": list(payouts_of_advisor(advisor_id=advisor.pk)[:50]),
    }


def payouts_of_advisor(*, advisor_id: int) -> QuerySet[Payout]:
    return Payout.objects.filter(advisor_id=advisor_id).order_by("-created_at", "-id")


def payouts_admin(*, advisor_id: int | None = None, status: str | None = None) -> QuerySet[Payout]:
    payouts = Payout.objects.select_related("advisor").order_by("-created_at", "-id")
    if advisor_id is not None:
        payouts = payouts.filter(advisor_id=advisor_id)
    if status:
        payouts = payouts.filter(status=status)
    return payouts


def payouts_to_retry() -> QuerySet[Payout]:
    """Payouts whose transfer may not have been made yet (a crash, Stripe unreachable)."""
    return Payout.objects.filter(status=Payout.Status.PENDING).order_by("id")


def payout_candidates(*, minimum_minor: int) -> list[int]:
    """Advisors (ids) whose earnings balance could make a payout."""
    owners = LedgerAccount.objects.filter(
        kind=AccountKind.ADVISOR_EARNINGS, balance_minor__gte=minimum_minor
    ).values_list("owner_id", flat=True)
    return list(
        Advisor.objects.filter(user_id__in=owners).order_by("id").values_list("id", flat=True)
    )
