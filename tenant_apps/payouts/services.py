"""Every change to advisor payouts: the policy, Connect onboarding and its webhooks, holds,
scheduled and requested payouts, and reversed transfers. Money moves in `transfers`."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branding.selectors import brand_current
from identity.models import User
from kernel import crypto
from kernel.money import format_minor
from kernel.tenant_connection import connection
from tenant_apps.advisors.errors import AdvisorNotFound
from tenant_apps.advisors.models import Advisor
from tenant_apps.payments import selectors as payment_selectors
from tenant_apps.payments import stripe_gateway
from tenant_apps.payments.errors import StripeNotConnected, StripeUnavailable
from tenant_apps.payouts import periods, selectors, transfers
from tenant_apps.payouts.errors import (
    InvalidHold,
    InvalidPayoutPolicy,
    PayoutRefused,
    PayoutsHeld,
    PayoutsNotEnabled,
    PayoutsPaused,
)
from tenant_apps.payouts.models import LEDGER_PAYOUT_REVERSAL, Payout, PayoutAccount, PayoutPolicy
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for, ledger_post
from tenants.bridge import licensee_current, licensee_payouts_paused

MAX_CLEARING_DAYS = 90

logger = logging.getLogger(__name__)


def _secret_key() -> str:
    row = payment_selectors.stripe_connection_get()
    if row is None:
        raise StripeNotConnected(
            "Payouts are not set up yet: the licensee has not connected its Stripe account."
        )
    return crypto.decrypt(row.secret_key_encrypted)


# --- Policy --------------------------------------------------------------------------------


def payout_policy_set(
    *, schedule: str, minimum_amount_minor: int, clearing_days: int
) -> PayoutPolicy:
    if schedule not in PayoutPolicy.Schedule.values:
        raise InvalidPayoutPolicy("The schedule is daily, weekly or monthly.", field="schedule")
    if minimum_amount_minor <= 0:
        raise InvalidPayoutPolicy("The minimum must be positive.", field="minimum_amount")
    if not 0 <= clearing_days <= MAX_CLEARING_DAYS:
        raise InvalidPayoutPolicy(
            f"The clearing period is 0 to {MAX_CLEARING_DAYS} days.", field="clearing_days"
        )
    policy, _ = PayoutPolicy.objects.update_or_create(
        singleton=True,
        defaults={
            "schedule": schedule,
            "minimum_amount_minor": minimum_amount_minor,
            "clearing_days": clearing_days,
        },
    )
    return policy


# --- Onboarding with Stripe Connect Express -----------------------------------------------


def payout_onboarding_start(*, advisor: Advisor, origin: str) -> stripe_gateway.AccountLink:
    """Give the advisor an Express account on the licensee's Stripe (once) and a fresh link
    to Stripe's hosted onboarding (links expire within minutes, so every call mints one)."""
    secret_key = _secret_key()
    # The row first (committed at once, no lock kept): a Connect event that outruns the
    # recording below finds the advisor's onboarding pending and is retried.
    account_id = PayoutAccount.objects.get_or_create(advisor_id=advisor.pk)[0].stripe_account_id
    if not account_id:
        # Asked with no transaction open (Stripe may be slow or down); the fixed key makes
        # concurrent starts, and a retry after a lost reply, get the same account back.
        created = stripe_gateway.connected_account_create(
            secret_key=secret_key,
            email=advisor.user.email,
            metadata={"advisor_id": str(advisor.pk), "schema": connection.schema_name},
            idempotency_key=f"connect-account-{connection.schema_name}-{advisor.pk}",
        )
        with transaction.atomic():
            account = transfers.payout_account_lock(advisor_id=advisor.pk)
            if not account.stripe_account_id:  # the first of concurrent starts records it
                _apply_stripe_state(account, created)
                account.save()
            account_id = account.stripe_account_id
    assert account_id  # recorded above if it was missing
    return stripe_gateway.account_link_create(
        secret_key=secret_key,
        account_id=account_id,
        refresh_url=f"{origin}/advisor/?payouts=refresh",
        return_url=f"{origin}/advisor/?payouts=return",
    )


def _apply_stripe_state(row: PayoutAccount, state: stripe_gateway.ConnectedAccount) -> None:
    row.stripe_account_id = state.id
    row.details_submitted = state.details_submitted
    row.payouts_enabled = state.payouts_enabled
    row.requirements = state.requirements_due
    row.disabled_reason = state.disabled_reason[:120]


def payout_account_sync(*, account_id: str, account: dict, occurred_at: int | None) -> str:
    """Apply Stripe's `account.updated` from the Connect endpoint, routed by the event's
    `account` to this licensee's advisor; any other account is ignored."""
    if not account_id or account.get("id") not in (None, account_id):
        return "ignored: the event's account does not match its object"
    row = PayoutAccount.objects.select_for_update().filter(stripe_account_id=account_id).first()
    if row is None:
        advisor_id = str((account.get("metadata") or {}).get("advisor_id") or "")
        if (
            advisor_id.isdigit()
            and PayoutAccount.objects.filter(
                advisor_id=int(advisor_id), stripe_account_id__isnull=True
            ).exists()
        ):
            # The onboarding that created it has not committed yet: the job retries.
            raise RuntimeError("connected account not recorded yet; will retry")
        return "ignored: not one of our advisors' accounts"
    moment = datetime.fromtimestamp(occurred_at, UTC) if occurred_at else timezone.now()
    if row.stripe_state_at and moment < row.stripe_state_at:
        return "ignored: older than the state we hold"
    _apply_stripe_state(row, stripe_gateway.connected_account_from(account | {"id": account_id}))
    row.stripe_state_at = moment
    row.save()
    return "payouts enabled" if row.payouts_enabled else "payouts not enabled yet"


def payout_account_refresh(
    *, advisor_id: int, secret_key: str | None = None
) -> PayoutAccount | None:
    """Ask Stripe for the advisor's connected account now (`accounts.retrieve`) instead of
    trusting webhooks alone: when they come back from onboarding and before every payout.
    The call runs outside any transaction; the state is applied in a short one. None when
    the advisor has no connected account yet."""
    current = PayoutAccount.objects.filter(advisor_id=advisor_id).first()
    if current is None or not current.stripe_account_id:
        return current
    fetched_at = timezone.now()
    state = stripe_gateway.connected_account_fetch(
        secret_key=secret_key or _secret_key(), account_id=current.stripe_account_id
    )
    with transaction.atomic():
        row = transfers.payout_account_lock(advisor_id=advisor_id)
        if row.stripe_account_id != state.id:
            return row
        if row.stripe_state_at is None or row.stripe_state_at <= fetched_at:
            _apply_stripe_state(row, state)
            row.stripe_state_at = fetched_at
            row.save()
    return row


# --- Holds ---------------------------------------------------------------------------------


def _advisor(advisor_id: int) -> Advisor:
    advisor = Advisor.objects.filter(pk=advisor_id).first()
    if advisor is None:
        raise AdvisorNotFound("There is no such advisor.", field="advisor_id")
    return advisor


def payout_hold(*, advisor_id: int, reason: str, admin: User) -> PayoutAccount:
    """Stop an advisor's payouts (a payout already being transferred still completes)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidHold("Say why you hold this advisor's payouts.", field="reason")
    advisor = _advisor(advisor_id)
    with transaction.atomic():
        account = transfers.payout_account_lock(advisor_id=advisor.pk)
        account.held = True
        account.hold_reason = reason[:300]
        account.held_by_id = admin.pk
        account.held_at = timezone.now()
        account.save()
    return account


def payout_release(*, advisor_id: int) -> PayoutAccount:
    advisor = _advisor(advisor_id)
    with transaction.atomic():
        account = transfers.payout_account_lock(advisor_id=advisor.pk)
        account.held = False
        account.hold_reason = ""
        account.held_by_id = None
        account.held_at = None
        account.save()
    return account


# --- Payouts -------------------------------------------------------------------------------


@dataclass
class RunReport:
    paid: int = 0
    failed: int = 0
    pending: int = 0  # outcome unknown; retried next run with the same key
    unchecked: int = 0  # Stripe could not tell the account's state: not paid this run
    skipped: str = ""
    # Why payouts failed, with how many failed so: "3 failed" alone tells an operator nothing.
    failure_reasons: Counter[str] = field(default_factory=Counter)

    def count(self, payout: Payout | None) -> None:
        if payout is None:
            return
        if payout.status == Payout.Status.PAID:
            self.paid += 1
        elif payout.status == Payout.Status.FAILED:
            self.failed += 1
            self.failure_reasons[payout.failure_reason or payout.failure_code or "unknown"] += 1
        elif payout.status == Payout.Status.PENDING:
            self.pending += 1


def _run_due(policy: PayoutPolicy, period: str) -> bool:
    """Once per period of the licensee's schedule, plus retries of what failed in this
    period or is still pending."""
    return (
        policy.last_run_period != period
        or Payout.objects.filter(status=Payout.Status.PENDING).exists()
        or Payout.objects.filter(status=Payout.Status.FAILED, period_key=period).exists()
    )


def _scheduled_open(*, advisor_id: int, period: str, policy: PayoutPolicy) -> Payout | None:
    """Phase 1 of the advisor's payout for this period, unless another runner holds the
    advisor, the period is already paid (or being paid), or too little has cleared."""
    with transaction.atomic():
        account = transfers.payout_account_try_lock(advisor_id=advisor_id)
        if account is None:
            return None
        done = Payout.objects.filter(advisor_id=advisor_id, period_key=period)
        status = done.values_list("status", flat=True).first()
        if status is not None and status != Payout.Status.FAILED:
            return None
        if status == Payout.Status.FAILED:
            failed = done.select_for_update(skip_locked=True).filter(status=status).first()
            if failed is None:
                return None
            payout = failed
        else:
            payout = Payout(
                advisor_id=advisor_id, period_key=period, trigger=Payout.Trigger.SCHEDULE
            )
        transfers.money_lock(user_id=account.advisor.user_id)
        cleared = selectors.earnings_get(
            advisor=account.advisor, clearing_days=policy.clearing_days
        ).available_minor
        if cleared < policy.minimum_amount_minor:
            return None
        return transfers.payout_open(payout=payout, account=account, amount_minor=cleared)


def payouts_run(*, respect_schedule: bool = False) -> RunReport:
    """Pay every advisor their cleared earnings for the current period of the schedule, and
    finish payouts left pending. Safe to run twice at once: each advisor is locked (SKIP
    LOCKED) and paid at most once per period (a unique constraint)."""
    paused = licensee_payouts_paused(licensee_current().pk)
    if paused:
        return RunReport(skipped=paused)
    connection_row = payment_selectors.stripe_connection_get()
    if connection_row is None:
        return RunReport(skipped="Stripe is not connected")
    secret_key = crypto.decrypt(connection_row.secret_key_encrypted)
    policy = selectors.policy_get()
    now = timezone.now()
    period = periods.period_key(policy.schedule, now)
    if respect_schedule and not _run_due(policy, period):
        return RunReport(skipped="not due")
    report = RunReport()
    for payout_id in selectors.payouts_to_retry().values_list("id", flat=True):
        report.count(transfers.payout_transfer(payout_id=payout_id, secret_key=secret_key))
    for advisor_id in selectors.payout_candidates(minimum_minor=policy.minimum_amount_minor):
        try:
            payout_account_refresh(advisor_id=advisor_id, secret_key=secret_key)
        except StripeUnavailable as error:
            # Without the account's current state no payout is opened; the next run tries.
            logger.warning("Advisor %s not paid this run: %s", advisor_id, error.detail)
            report.unchecked += 1
            continue
        payout = _scheduled_open(advisor_id=advisor_id, period=period, policy=policy)
        if payout is not None and payout.status == Payout.Status.PENDING:
            payout = transfers.payout_transfer(payout_id=payout.pk, secret_key=secret_key)
        report.count(payout)
    PayoutPolicy.objects.update_or_create(
        singleton=True, defaults={"last_run_period": period, "last_run_at": now}
    )
    return report


def payout_request(*, advisor: Advisor, amount_minor: int | None = None) -> Payout:
    """The advisor asks to be paid now, outside the schedule: all that has cleared, or
    `amount_minor` of it, at least the licensee's minimum."""
    paused = licensee_payouts_paused(licensee_current().pk)
    if paused:
        raise PayoutsPaused(paused)
    secret_key = _secret_key()
    policy = selectors.policy_get()
    payout_account_refresh(advisor_id=advisor.pk, secret_key=secret_key)
    with transaction.atomic():
        account = transfers.payout_account_lock(advisor_id=advisor.pk)
        blocked = transfers.blocked_reason(account)
        if blocked is not None:
            error = PayoutsHeld if blocked[0] == "held" else PayoutsNotEnabled
            raise error(blocked[1])
        transfers.money_lock(user_id=advisor.user_id)
        available = selectors.earnings_get(
            advisor=advisor, clearing_days=policy.clearing_days
        ).available_minor
        amount = available if amount_minor is None else amount_minor
        money = brand_current().money
        if amount < policy.minimum_amount_minor:
            raise PayoutRefused(
                _("The smallest payout is %(amount)s.")
                % {"amount": money(policy.minimum_amount_minor)},
                field="amount",
            )
        if amount > available:
            raise PayoutRefused(
                _("Only %(amount)s has cleared for payout.") % {"amount": money(available)},
                field="amount",
            )
        number = Payout.objects.filter(advisor=advisor, trigger=Payout.Trigger.REQUEST).count()
        payout = transfers.payout_open(
            payout=Payout(
                advisor=advisor, period_key=f"request-{number + 1}", trigger=Payout.Trigger.REQUEST
            ),
            account=account,
            amount_minor=amount,
        )
    transfers.payout_transfer(payout_id=payout.pk, secret_key=secret_key)
    payout.refresh_from_db()
    return payout


def payout_transfer_reversed(*, transfer: dict) -> str:
    """Apply Stripe's `transfer.reversed`: each reversal (by its id, once) gives its amount
    back to the advisor's earnings."""
    if not transfer.get("id"):
        return "ignored: no transfer id"
    payout = (
        Payout.objects.select_for_update(of=("self",))
        .select_related("advisor")
        .filter(stripe_transfer_id=transfer["id"])
        .first()
    )
    if payout is None:
        payout_id = str((transfer.get("metadata") or {}).get("payout_id") or "")
        if (
            payout_id.isdigit()
            and Payout.objects.filter(pk=int(payout_id), status=Payout.Status.PENDING).exists()
        ):
            raise RuntimeError("reversal of a payout not yet marked paid; will retry")
        return "ignored: not one of our payouts"
    reversals = sorted(
        (transfer.get("reversals") or {}).get("data") or [], key=lambda r: r.get("created") or 0
    )
    booked = 0
    for reversal in reversals:
        amount = int(reversal.get("amount") or 0)
        if amount <= 0:
            continue
        posting = ledger_post(
            idempotency_key=f"payout-reversal:{reversal['id']}",
            kind=LEDGER_PAYOUT_REVERSAL,
            description=f"Payout reversed: {format_minor(amount, payout.currency)} back",
            metadata={
                "payout_id": payout.pk,
                "advisor_id": payout.advisor_id,
                "reversal": reversal["id"],
            },
            legs=[
                Leg(account_for(kind=AccountKind.PAYOUTS), -amount),
                Leg(
                    account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=payout.advisor.user_id),
                    amount,
                ),
            ],
        )
        if posting.created:
            booked += amount
    if not booked:
        return "already restored"
    payout.reversed_minor += booked
    if payout.reversed_minor >= payout.amount_minor:
        payout.status = Payout.Status.REVERSED
    payout.save()
    return f"reversal of {booked} restored to earnings"
