"""Reads of balances and history, and the ledger's invariant check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    BigIntegerField,
    CharField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import Case, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat

from kernel.tenant_connection import connection
from tenant_apps.wallets.models import AccountKind, LedgerAccount, LedgerAccountShard, LedgerEntry


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


# The accounts whose movements a person sees as their money (the frozen `disputed` account is
# not: freezing credit takes it out of what they have).
_PERSONAL_KINDS = [AccountKind.WALLET, AccountKind.HOLD, AccountKind.DEBT]


@dataclass(frozen=True)
class WalletEvent:
    """One business event in a person's wallet, however many postings it took: a top-up with
    its bonus, a call from its first hold to its settlement, a refund, a credit, a dispute."""

    key: str  # "call:12", "topup:7", "dispute:dp_…", "tx:55"
    kind: str  # topup | call | refund | credit | dispute | the posting's own kind
    started_at: datetime
    first_entry_id: int
    amount_minor: int  # net change to what the person has (wallet + hold − debt)
    reserved_minor: int  # of which still reserved for a running call
    bonus_minor: int = 0
    call_id: int | None = None
    topup_id: int | None = None
    talk_seconds: int | None = None
    settled: bool = False  # a call's hold was captured or released
    won: bool | None = None  # a dispute's outcome, once closed
    description: str = ""  # the last posting's own words, for kinds without a wording
    kinds: tuple[str, ...] = field(default=())


def _event_key() -> Case:
    metadata = "transaction__metadata"
    return Case(
        When(
            **{f"{metadata}__has_key": "call_id"},
            then=Concat(Value("call:"), KeyTextTransform("call_id", metadata)),
        ),
        When(
            Q(transaction__kind__in=["topup", "bonus"]) & Q(**{f"{metadata}__has_key": "topup_id"}),
            then=Concat(Value("topup:"), KeyTextTransform("topup_id", metadata)),
        ),
        When(
            Q(transaction__kind="dispute") & Q(**{f"{metadata}__has_key": "dispute"}),
            then=Concat(Value("dispute:"), KeyTextTransform("dispute", metadata)),
        ),
        default=Concat(Value("tx:"), Cast("transaction_id", CharField())),
        output_field=CharField(),
    )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def wallet_events(*, user_id: int, limit: int, offset: int = 0) -> tuple[int, list[WalletEvent]]:
    """A person's wallet history, one `WalletEvent` per business event, newest first, and how
    many there are. Grouped in the database, so a page costs two queries whatever the history."""
    entries = LedgerEntry.objects.filter(
        account__owner_id=user_id, account__kind__in=_PERSONAL_KINDS
    ).annotate(event_key=_event_key())
    groups = (
        entries.values("event_key")
        .annotate(
            first_id=Min("id"),
            started_at=Min("created_at"),
            amount=Sum("amount_minor"),
            held=Sum("amount_minor", filter=Q(account__kind=AccountKind.HOLD)),
        )
        .order_by("-first_id")
    )
    count = groups.count()
    page = list(groups[offset : offset + limit])
    details: dict[str, list[Mapping[str, object]]] = {}
    rows = (
        entries.filter(event_key__in=[group["event_key"] for group in page])
        .order_by("id")
        .values(
            "event_key",
            "amount_minor",
            "transaction__kind",
            "transaction__metadata",
            "transaction__description",
        )
    )
    for row in rows:
        details.setdefault(str(row["event_key"]), []).append(row)
    return count, [_event(group, details.get(group["event_key"], [])) for group in page]


def _event(group: Mapping[str, object], rows: list[Mapping[str, object]]) -> WalletEvent:
    key = str(group["event_key"])
    kinds = tuple(dict.fromkeys(str(row["transaction__kind"]) for row in rows))
    metadata: dict[str, object] = {}
    for row in rows:
        found = row["transaction__metadata"]
        if isinstance(found, dict):
            metadata.update(found)
    prefix = key.split(":", 1)[0]
    kind = prefix if prefix in ("call", "topup", "dispute") else (kinds[-1] if kinds else "")
    bonus = sum(
        int(str(row["amount_minor"])) for row in rows if row["transaction__kind"] == "bonus"
    )
    won = metadata.get("won")
    return WalletEvent(
        key=key,
        kind=kind,
        started_at=group["started_at"],  # type: ignore[arg-type]
        first_entry_id=int(str(group["first_id"])),
        amount_minor=int(str(group["amount"] or 0)),
        reserved_minor=int(str(group["held"] or 0)),
        bonus_minor=bonus,
        call_id=_int_or_none(metadata.get("call_id")),
        topup_id=_int_or_none(metadata.get("topup_id")),
        talk_seconds=_int_or_none(metadata.get("talk_seconds")),
        settled=bool({"capture", "hold_release"} & set(kinds)),
        won=won if isinstance(won, bool) else None,
        description=str(rows[-1]["transaction__description"]) if rows else "",
        kinds=kinds,
    )


def sharded_balance() -> Coalesce:
    """What a licensee-wide account's shards add to its row's balance (an annotation)."""
    shards = (
        LedgerAccountShard.objects.filter(account=OuterRef("pk"))
        .values("account")
        .annotate(total=Sum("balance_minor"))
        .values("total")
    )
    return Coalesce(Subquery(shards), 0, output_field=BigIntegerField())


def house_balances() -> dict[str, int]:
    """Every licensee-wide account's whole balance (row and shards), by kind."""
    accounts = LedgerAccount.objects.filter(owner_id__isnull=True).annotate(
        sharded_minor=sharded_balance()
    )
    return {
        kind: row + sharded
        for kind, row, sharded in accounts.values_list("kind", "balance_minor", "sharded_minor")
    }


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
        # A licensee-wide account's balance is its row's plus its shards'; only those
        # accounts have shards.
        cursor.execute(
            "SELECT a.id, a.kind, a.balance_minor + COALESCE(s.total, 0), COALESCE(e.total, 0) "
            "FROM wallets_ledgeraccount a LEFT JOIN ("
            "  SELECT account_id, SUM(amount_minor) AS total FROM wallets_ledgerentry"
            "  GROUP BY account_id) e ON e.account_id = a.id "
            "LEFT JOIN ("
            "  SELECT account_id, SUM(balance_minor) AS total FROM wallets_ledgeraccountshard"
            "  GROUP BY account_id) s ON s.account_id = a.id "
            "WHERE a.balance_minor + COALESCE(s.total, 0) <> COALESCE(e.total, 0)"
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
        cursor.execute(
            "SELECT DISTINCT a.id, a.kind FROM wallets_ledgeraccountshard s "
            "JOIN wallets_ledgeraccount a ON a.id = s.account_id WHERE a.owner_id IS NOT NULL"
        )
        breaches += [f"account {aid} ({kind}) is a user's but has shards" for aid, kind in cursor]
    return breaches


def callrix_fee_minor(*, start: datetime, end: datetime) -> int:
    """What the ledger moved into Callrix's fee account in [start, end): the calls'
    settlements, net of anything taken back."""
    total = LedgerEntry.objects.filter(
        account__kind=AccountKind.CALLRIX_FEE, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Sum("amount_minor"))["total"]
    return total or 0
