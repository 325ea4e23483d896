"""Reads of balances and history, and the ledger's invariant check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet, Sum

from kernel.tenant_connection import connection
from tenant_apps.wallets.models import AccountKind, LedgerAccount, LedgerEntry


def licensee_currency() -> str:
    return getattr(connection.tenant, "currency", None) or "EUR"


@dataclass(frozen=True)
class WalletBalance:
    available_minor: int
    held_minor: int
    owed_minor: int
    disputed_minor: int
    currency: str

    @property
    def balance_minor(self) -> int:
        return self.available_minor + self.held_minor


def wallet_balance_get(*, user_id: int) -> WalletBalance:
    balances = dict(
        LedgerAccount.objects.filter(
            owner_id=user_id,
            kind__in=[AccountKind.WALLET, AccountKind.HOLD, AccountKind.DEBT, AccountKind.DISPUTED],
        ).values_list("kind", "balance_minor")
    )
    return WalletBalance(
        available_minor=balances.get(AccountKind.WALLET, 0),
        held_minor=balances.get(AccountKind.HOLD, 0),
        owed_minor=-balances.get(AccountKind.DEBT, 0),
        disputed_minor=balances.get(AccountKind.DISPUTED, 0),
        currency=licensee_currency(),
    )


def wallet_entries(*, user_id: int) -> QuerySet[LedgerEntry]:
    """The user's wallet and hold movements, newest first."""
    return (
        LedgerEntry.objects.filter(
            account__owner_id=user_id,
            account__kind__in=[AccountKind.WALLET, AccountKind.HOLD, AccountKind.DEBT],
        )
        .select_related("transaction", "account")
        .order_by("-id")
    )


def ledger_verify() -> list[str]:
    """Every breach of the ledger's invariants in the current schema (empty = clean)."""
    breaches: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT transaction_id, SUM(amount_minor) FROM wallets_ledgerentry "
            "GROUP BY transaction_id HAVING SUM(amount_minor) <> 0"
        )
        breaches += [f"transaction {tid} sums to {total}, not 0" for tid, total in cursor]
        cursor.execute(
            "SELECT t.id FROM wallets_ledgertransaction t WHERE NOT EXISTS "
            "(SELECT 1 FROM wallets_ledgerentry e WHERE e.transaction_id = t.id)"
        )
        breaches += [f"transaction {tid} has no entries" for (tid,) in cursor]
        cursor.execute(
            "SELECT a.id, a.kind, a.balance_minor, COALESCE(e.total, 0) "
            "FROM wallets_ledgeraccount a LEFT JOIN ("
            "  SELECT account_id, SUM(amount_minor) AS total FROM wallets_ledgerentry"
            "  GROUP BY account_id) e ON e.account_id = a.id "
            "WHERE a.balance_minor <> COALESCE(e.total, 0)"
        )
        breaches += [
            f"account {aid} ({kind}) caches {cached} but its entries sum to {total}"
            for aid, kind, cached, total in cursor
        ]
        cursor.execute(
            "SELECT id, kind, balance_minor FROM wallets_ledgeraccount "
            "WHERE (kind IN ('wallet', 'hold', 'disputed') AND balance_minor < 0) "
            "OR (kind = 'debt' AND balance_minor > 0)"
        )
        breaches += [f"account {aid} ({kind}) has balance {bal}" for aid, kind, bal in cursor]
    return breaches


def callrix_fee_minor(*, start: datetime, end: datetime) -> int:
    """What the ledger moved into Callrix's fee account in [start, end): the calls'
    settlements, net of anything taken back."""
    total = LedgerEntry.objects.filter(
        account__kind=AccountKind.CALLRIX_FEE, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Sum("amount_minor"))["total"]
    return total or 0
