"""Postings to the ledger. Every change of a balance goes through `ledger_post`."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.wallets.errors import (
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    UnbalancedPosting,
)
from tenant_apps.wallets.models import AccountKind, LedgerAccount, LedgerTransaction
from tenant_apps.wallets.selectors import ledger_verify, licensee_currency, sharded_balance
from tenants.bridge import LicenseeView, ledger_checked

# What a posting keeps beside it for people tracing money (the call, top-up or payout it came
# from): JSON scalars by name.
LedgerMetadata = Mapping[str, str | int | bool | None]


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount_minor: int
    # A credit to a user's wallet that first pays what the user owes: the posting splits it
    # between the user's debt account and the wallet under the accounts' locks, so a wallet
    # never holds credit while its owner owes money.
    settles_debt: bool = False


@dataclass(frozen=True)
class Posting:
    transaction: LedgerTransaction
    created: bool  # False when the idempotency key had been posted before


def account_for(*, kind: str, owner_id: int | None = None) -> LedgerAccount:
    """The account of this kind (and owner), created on first use. A licensee-wide account
    comes with its whole balance (its row's and its shards') in `balance_minor`."""
    found = LedgerAccount.objects.filter(kind=kind, owner_id=owner_id)
    if owner_id is None:
        found = found.annotate(sharded_minor=sharded_balance())
    account = found.first()
    if account is not None:
        account.balance_minor += getattr(account, "sharded_minor", 0)
        return account
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(
                kind=kind, owner_id=owner_id, currency=licensee_currency()
            )
    except IntegrityError:  # created concurrently
        return LedgerAccount.objects.get(kind=kind, owner_id=owner_id)


def _net_legs(legs: Sequence[Leg]) -> dict[int, int]:
    net: dict[int, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg.amount_minor, int) or isinstance(leg.amount_minor, bool):
            raise InvalidAmount("Amounts are whole minor units.", field="amount")
        if leg.settles_debt and (leg.amount_minor <= 0 or leg.account.kind != AccountKind.WALLET):
            raise InvalidAmount("Only a credit to a wallet can settle debt.", field="amount")
        net[leg.account.pk] += leg.amount_minor
    if sum(net.values()) != 0:
        raise UnbalancedPosting("The legs of a posting must sum to zero.")
    return {account_id: amount for account_id, amount in net.items() if amount != 0}


def legs_digest(legs: Sequence[Leg]) -> str:
    """What a posting asked for, independent of the order of its legs and of how a credit
    was later split with debt: equal for a true replay, different for any other legs."""
    net: dict[tuple[int, bool], int] = defaultdict(int)
    for leg in legs:
        net[(leg.account.pk, leg.settles_debt)] += leg.amount_minor
    text = ";".join(
        f"{account_id}:{int(flag)}:{amount}"
        for (account_id, flag), amount in sorted(net.items())
        if amount
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _replayed(existing: LedgerTransaction, digest: str) -> Posting:
    # Postings from before digests were kept (empty) cannot be compared and count as replays.
    if existing.legs_digest and existing.legs_digest != digest:
        raise IdempotencyMismatch(
            "This idempotency key was already used for a different posting.",
            field="idempotency_key",
        )
    return Posting(transaction=existing, created=False)


def accounts_lock(accounts: QuerySet[LedgerAccount]) -> list[LedgerAccount]:
    """Lock these ledger accounts (SELECT … FOR UPDATE) in ascending id order, the order
    every posting locks them in, so whoever else needs them queues instead of deadlocking."""
    return list(accounts.select_for_update().order_by("pk"))


def ledger_post(
    *,
    idempotency_key: str,
    kind: str,
    description: str,
    legs: Sequence[Leg],
    metadata: LedgerMetadata | None = None,
) -> Posting:
    """Post one balanced transaction, or return the one already posted under this key; the
    key reused with other legs or amounts is refused (`IdempotencyMismatch`, 409).

    One round trip: `ledger_post_fast` (tenant_apps/wallets/ledger_sql.py) locks, checks and
    writes the whole posting in the database. It runs in the caller's transaction when there
    is one (a single statement is its own transaction otherwise), so a business operation and
    its money movement commit together or not at all; a refusal writes nothing."""
    if not _net_legs(legs):
        raise InvalidAmount("A posting must move money.", field="amount")
    digest = legs_digest(legs)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM ledger_post_fast(%s, %s, %s, %s::jsonb, %s, %s::bigint[], %s::bigint[], "
            "%s::boolean[], %s)",
            [
                idempotency_key,
                kind,
                description,
                json.dumps(metadata or {}),
                digest,
                [leg.account.pk for leg in legs],
                [leg.amount_minor for leg in legs],
                [leg.settles_debt for leg in legs],
                timezone.now(),
            ],
        )
        outcome, pk, created_at, stored_kind, stored_description, stored_metadata, stored_digest = (
            cursor.fetchone()
        )
    if outcome == "insufficient":
        raise InsufficientFunds("There is not enough credit for this.", field="amount")
    posted = LedgerTransaction(
        pk=pk,
        idempotency_key=idempotency_key,
        kind=stored_kind,
        description=stored_description,
        metadata=stored_metadata,
        legs_digest=stored_digest,
        created_at=created_at,
    )
    posted._state.adding, posted._state.db = False, connection.alias
    if outcome == "posted":
        return Posting(transaction=posted, created=True)
    return _replayed(posted, digest)


def credit_legs(*, user_id: int, amount_minor: int, source: LedgerAccount) -> list[Leg]:
    """Money for a user from `source`: it settles what they owe first, the rest is credit."""
    return [
        Leg(source, -amount_minor),
        Leg(
            account_for(kind=AccountKind.WALLET, owner_id=user_id),
            amount_minor,
            settles_debt=True,
        ),
    ]


# --- Holds: reserving part of a wallet for a call ------------------------------------------


def _positive(amount_minor: int) -> int:
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise InvalidAmount("The amount must be a positive number of minor units.", field="amount")
    return amount_minor


def _between_own_accounts(
    *,
    user_id: int,
    source: str,
    target: str,
    amount_minor: int,
    kind: str,
    idempotency_key: str,
    description: str,
    metadata: LedgerMetadata | None,
) -> Posting:
    amount = _positive(amount_minor)
    return ledger_post(
        idempotency_key=idempotency_key,
        kind=kind,
        description=description,
        metadata=metadata,
        legs=[
            Leg(account_for(kind=source, owner_id=user_id), -amount),
            # Credit back to the wallet pays the user's debt first.
            Leg(
                account_for(kind=target, owner_id=user_id),
                amount,
                settles_debt=target == AccountKind.WALLET,
            ),
        ],
    )


def hold_place(
    *,
    user_id: int,
    amount_minor: int,
    idempotency_key: str,
    description: str,
    metadata: LedgerMetadata | None = None,
) -> Posting:
    """Move credit from the wallet into the user's hold (also used to extend a hold)."""
    return _between_own_accounts(
        user_id=user_id,
        source=AccountKind.WALLET,
        target=AccountKind.HOLD,
        amount_minor=amount_minor,
        kind="hold",
        idempotency_key=idempotency_key,
        description=description,
        metadata=metadata,
    )


def hold_release(
    *,
    user_id: int,
    amount_minor: int,
    idempotency_key: str,
    description: str,
    metadata: LedgerMetadata | None = None,
) -> Posting:
    return _between_own_accounts(
        user_id=user_id,
        source=AccountKind.HOLD,
        target=AccountKind.WALLET,
        amount_minor=amount_minor,
        kind="hold_release",
        idempotency_key=idempotency_key,
        description=description,
        metadata=metadata,
    )


def hold_capture(
    *,
    user_id: int,
    credits: Sequence[Leg],
    release_minor: int = 0,
    idempotency_key: str,
    description: str,
    metadata: LedgerMetadata | None = None,
) -> Posting:
    """Take the captured amount out of the hold into `credits` (e.g. advisor, licensee,
    Callrix) and give `release_minor` back to the wallet (paying the user's debt first) —
    one transaction."""
    captured = sum(leg.amount_minor for leg in credits)
    if captured < 0 or release_minor < 0:
        raise InvalidAmount("Captured and released amounts cannot be negative.", field="amount")
    legs = [
        Leg(account_for(kind=AccountKind.HOLD, owner_id=user_id), -(captured + release_minor)),
        *credits,
    ]
    if release_minor:
        legs.append(
            Leg(
                account_for(kind=AccountKind.WALLET, owner_id=user_id),
                release_minor,
                settles_debt=True,
            )
        )
    return ledger_post(
        idempotency_key=idempotency_key,
        kind="capture",
        description=description,
        metadata=metadata,
        legs=legs,
    )


# --- Books watched -------------------------------------------------------------------------


def ledger_check_report(*, licensee: LicenseeView) -> list[str]:
    """Check one licensee's ledger and tell Callrix's side the outcome (`ledger_checked`): a
    breach is recorded, e-mailed to staff and pauses the licensee's payouts until resolved."""
    with tenant_context(licensee):
        breaches = ledger_verify()
    ledger_checked.send(sender=LedgerTransaction, licensee=licensee, breaches=breaches)
    return breaches
