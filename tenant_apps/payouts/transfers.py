"""How one payout moves money, in two phases, because a Stripe call cannot join our database
transaction:

1. Open: in one transaction, under the advisor's lock (their `PayoutAccount` row), the
   `Payout` row (pending) and the ledger posting ADVISOR_EARNINGS -> PAYOUTS commit together.
   From then on the money cannot be paid out a second time: it has left the earnings.
2. Transfer: the Stripe transfer, made while holding the payout's own row lock (so two
   runners never send it at once), with an idempotency key derived from the payout (schema,
   advisor, period, attempt). Success marks it paid. A refusal posts the money back and marks
   it failed, in one transaction. An unknown outcome (network, Stripe's error, a crash) leaves
   it pending; the next run sends the same key and parameters, so Stripe returns the transfer
   it may already have made instead of making another. Stripe forgets keys after 24 hours:
   past that, the transfer is first looked up by its stable `transfer_group` and metadata.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kernel.money import format_minor
from kernel.tenant_connection import connection
from tenant_apps.payments import stripe_gateway
from tenant_apps.payments.errors import StripeUnavailable
from tenant_apps.payouts.models import (
    LEDGER_PAYOUT,
    LEDGER_PAYOUT_RETURN,
    Payout,
    PayoutAccount,
)
from tenant_apps.wallets.models import AccountKind, LedgerAccount
from tenant_apps.wallets.selectors import licensee_currency
from tenant_apps.wallets.services import Leg, account_for, accounts_lock, ledger_post

logger = logging.getLogger(__name__)


# Stripe keeps an idempotency key at least this long; a pending payout's attempt started
# when the payout was last saved (`payout_open`; a try with an unknown outcome saves nothing).
IDEMPOTENCY_KEY_MEMORY = timedelta(hours=23)


def transfer_group_of(payout: Payout) -> str:
    """Stable for the payout, whatever the attempt: every transfer ever made for it."""
    return f"payout-{connection.schema_name}-{payout.pk}"


def transfer_metadata(payout: Payout) -> dict[str, str]:
    return {
        "payout_id": str(payout.pk),
        "advisor_id": str(payout.advisor_id),
        "attempt": str(payout.attempts),
    }


def transfer_idempotency_key(payout: Payout) -> str:
    return (
        f"payout-{connection.schema_name}-{payout.advisor_id}-{payout.period_key}-{payout.attempts}"
    )


def _payout_accounts(advisor_id: int, *, skip_locked: bool) -> QuerySet[PayoutAccount]:
    PayoutAccount.objects.get_or_create(advisor_id=advisor_id)  # made on first use
    return (
        PayoutAccount.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .select_related("advisor")
        .filter(advisor_id=advisor_id)
    )


def payout_account_lock(*, advisor_id: int) -> PayoutAccount:
    """The advisor's payout lock, waiting for it if another payout holds it."""
    return _payout_accounts(advisor_id, skip_locked=False).get()


def payout_account_try_lock(*, advisor_id: int) -> PayoutAccount | None:
    """The advisor's payout lock, or None when another runner holds it (SKIP LOCKED): that
    runner is paying this advisor right now."""
    return _payout_accounts(advisor_id, skip_locked=True).first()


def money_lock(*, user_id: int) -> None:
    """Lock the advisor's earnings and the PAYOUTS account before a payout is sized, so
    nothing takes from the earnings meanwhile. Both, in id order, as `ledger_post` locks
    them: a payout being sized never waits on a refused one giving money back the other
    way round."""
    ids = [
        account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=user_id).pk,
        account_for(kind=AccountKind.PAYOUTS).pk,
    ]
    accounts_lock(LedgerAccount.objects.filter(pk__in=ids))


def blocked_reason(account: PayoutAccount) -> tuple[str, str] | None:
    """Why this advisor cannot be paid now (code, reason), or None."""
    if account.held:
        return "held", f"Payouts are held by the licensee: {account.hold_reason}"
    if not account.stripe_account_id:
        return "not_onboarded", "The advisor has not set up payouts with Stripe yet."
    if not account.payouts_enabled:
        detail = f" ({account.disabled_reason})" if account.disabled_reason else ""
        return "payouts_disabled", f"Stripe has not enabled payouts for this account{detail}."
    return None


def _mark_failed(payout: Payout, code: str, reason: str) -> None:
    payout.status = Payout.Status.FAILED
    payout.failure_code = (code or "failed")[:60]
    payout.failure_reason = reason[:500]
    payout.failed_at = timezone.now()
    payout.save()


def payout_open(*, payout: Payout, account: PayoutAccount, amount_minor: int) -> Payout:
    """Phase 1, inside the caller's transaction holding the advisor's lock and their earnings
    account (see `money_lock`, taken before the amount was sized): record the payout
    (new, or a failed one tried again) and move the money out of the earnings — or record
    why it cannot be paid, leaving the earnings where they are."""
    payout.amount_minor = amount_minor
    payout.currency = licensee_currency()
    payout.failure_code = payout.failure_reason = ""
    payout.failed_at = None
    blocked = blocked_reason(account)
    if blocked is not None:
        _mark_failed(payout, *blocked)
        return payout
    payout.attempts += 1
    payout.status = Payout.Status.PENDING
    payout.destination_account_id = account.stripe_account_id or ""  # set: not blocked
    payout.save()
    ledger_post(
        idempotency_key=f"payout:{payout.pk}:{payout.attempts}:out",
        kind=LEDGER_PAYOUT,
        description=f"Payout {format_minor(amount_minor, payout.currency)}",
        metadata={"payout_id": payout.pk, "advisor_id": payout.advisor_id},
        legs=[
            Leg(
                account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=account.advisor.user_id),
                -amount_minor,
            ),
            Leg(account_for(kind=AccountKind.PAYOUTS), amount_minor),
        ],
    )
    return payout


def _money_back(payout: Payout, code: str, reason: str) -> None:
    """Stripe made no transfer: the earnings get the money back and the payout says why."""
    ledger_post(
        idempotency_key=f"payout:{payout.pk}:{payout.attempts}:back",
        kind=LEDGER_PAYOUT_RETURN,
        description=f"Payout {format_minor(payout.amount_minor, payout.currency)} not made",
        metadata={"payout_id": payout.pk, "advisor_id": payout.advisor_id, "code": code},
        legs=[
            Leg(account_for(kind=AccountKind.PAYOUTS), -payout.amount_minor),
            Leg(
                account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=payout.advisor.user_id),
                payout.amount_minor,
            ),
        ],
    )
    _mark_failed(payout, code, reason)


def payout_transfer(*, payout_id: int, secret_key: str) -> Payout | None:
    """Phase 2 for one pending payout; None when another runner has it or it is settled."""
    with transaction.atomic():
        payout = (
            Payout.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("advisor")
            .filter(pk=payout_id, status=Payout.Status.PENDING)
            .first()
        )
        if payout is None:
            return None
        group, metadata = transfer_group_of(payout), transfer_metadata(payout)
        try:
            transfer = None
            if timezone.now() - payout.updated_at >= IDEMPOTENCY_KEY_MEMORY:
                # Stripe may have forgotten this attempt's key: ask whether the transfer was
                # made rather than risk paying twice.
                transfer = stripe_gateway.transfer_find(
                    secret_key=secret_key, transfer_group=group, metadata=metadata
                )
            if transfer is None:
                transfer = stripe_gateway.transfer_create(
                    secret_key=secret_key,
                    amount_minor=payout.amount_minor,
                    currency=payout.currency,
                    destination=payout.destination_account_id,
                    transfer_group=group,
                    metadata=metadata,
                    idempotency_key=transfer_idempotency_key(payout),
                )
        except stripe_gateway.TransferRefused as refusal:
            _money_back(payout, refusal.code, refusal.detail)
            return payout
        except StripeUnavailable as error:
            logger.warning("Payout %s stays pending: %s", payout.pk, error.detail)
            return payout
        payout.status = Payout.Status.PAID
        payout.stripe_transfer_id = transfer.id
        payout.paid_at = timezone.now()
        payout.save()
    return payout
