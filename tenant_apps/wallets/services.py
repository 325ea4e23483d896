"""Postings to the ledger. Every change of a balance goes through `ledger_post`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet

from tenant_apps.wallets.errors import InsufficientFunds, InvalidAmount, UnbalancedPosting
from tenant_apps.wallets.models import (
    NON_NEGATIVE_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)
from tenant_apps.wallets.selectors import licensee_currency

# What a posting keeps beside it for people tracing money (the call, top-up or payout it came
# from): JSON scalars by name.
LedgerMetadata = Mapping[str, str | int | bool | None]


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount_minor: int


@dataclass(frozen=True)
class Posting:
    transaction: LedgerTransaction
    created: bool  # False when the idempotency key had been posted before


def account_for(*, kind: str, owner_id: int | None = None) -> LedgerAccount:
    """The account of this kind (and owner), created on first use."""
    account = LedgerAccount.objects.filter(kind=kind, owner_id=owner_id).first()
    if account is not None:
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
        net[leg.account.pk] += leg.amount_minor
    if sum(net.values()) != 0:
        raise UnbalancedPosting("The legs of a posting must sum to zero.")
    return {account_id: amount for account_id, amount in net.items() if amount != 0}


def accounts_lock(accounts: QuerySet[LedgerAccount]) -> list[LedgerAccount]:
    """Lock these ledger accounts (SELECT … FOR UPDATE) in ascending id order, the order
    every posting locks them in, so whoever else needs them queues instead of deadlocking."""
    return list(accounts.select_for_update().order_by("pk"))


def _lock_accounts(account_ids: list[int]) -> dict[int, tuple[str, int]]:
    """SELECT … FOR UPDATE in ascending id order, so two postings over the same accounts
    always queue instead of deadlocking."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, kind, balance_minor FROM wallets_ledgeraccount "
            "WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [sorted(account_ids)],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def _apply_balances(deltas: dict[int, int]) -> None:
    placeholders = ", ".join(["(%s::bigint, %s::bigint)"] * len(deltas))
    params = [value for pair in deltas.items() for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallets_ledgeraccount AS account "
            "SET balance_minor = account.balance_minor + change.delta "
            f"FROM (VALUES {placeholders}) AS change(id, delta) WHERE account.id = change.id",
            params,
        )


def ledger_post(
    *,
    idempotency_key: str,
    kind: str,
    description: str,
    legs: Sequence[Leg],
    metadata: LedgerMetadata | None = None,
) -> Posting:
    """Post one balanced transaction, or return the one already posted under this key.

    Runs in the caller's transaction when there is one (a savepoint otherwise), so a business
    operation and its money movement commit together or not at all."""
    deltas = _net_legs(legs)
    if not deltas:
        raise InvalidAmount("A posting must move money.", field="amount")
    with transaction.atomic():
        balances = _lock_accounts(list(deltas))
        # Checked after the locks: a concurrent posting of the same key has committed by now.
        existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return Posting(transaction=existing, created=False)
        for account_id, delta in deltas.items():
            account_kind, balance = balances[account_id]
            if account_kind in NON_NEGATIVE_KINDS and balance + delta < 0:
                raise InsufficientFunds("There is not enough credit for this.", field="amount")
        try:
            with transaction.atomic():
                posted = LedgerTransaction.objects.create(
                    idempotency_key=idempotency_key,
                    kind=kind,
                    description=description[:300],
                    metadata=metadata or {},
                )
        except IntegrityError:
            existing = LedgerTransaction.objects.get(idempotency_key=idempotency_key)
            return Posting(transaction=existing, created=False)
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(transaction=posted, account_id=account_id, amount_minor=delta)
                for account_id, delta in sorted(deltas.items())
            ]
        )
        _apply_balances(deltas)
    return Posting(transaction=posted, created=True)


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
            Leg(account_for(kind=target, owner_id=user_id), amount),
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
    Callrix) and give `release_minor` back to the wallet — one transaction."""
    captured = sum(leg.amount_minor for leg in credits)
    if captured < 0 or release_minor < 0:
        raise InvalidAmount("Captured and released amounts cannot be negative.", field="amount")
    legs = [
        Leg(account_for(kind=AccountKind.HOLD, owner_id=user_id), -(captured + release_minor)),
        *credits,
    ]
    if release_minor:
        legs.append(Leg(account_for(kind=AccountKind.WALLET, owner_id=user_id), release_minor))
    return ledger_post(
        idempotency_key=idempotency_key,
        kind="capture",
        description=description,
        metadata=metadata,
        legs=legs,
    )
