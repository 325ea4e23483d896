"""The licensee's double-entry ledger (docs/architecture.md §6), in integer minor units.

Every movement of money is a `LedgerTransaction` whose `LedgerEntry` amounts sum to zero.
Entries and transactions are never updated or deleted (database triggers refuse it), and each
account caches its balance, changed only in the same database transaction as its entries.
Sign convention: an account's balance is what the platform holds for it. A user's wallet is
what they may spend; money arriving from Stripe makes the clearing account negative.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class AccountKind(models.TextChoices):
    # One per end user
    WALLET = "wallet", "Wallet"  # spendable credit
    HOLD = "hold", "Call hold"  # reserved for a running or starting call
    DEBT = "debt", "Amount owed"  # <= 0: what the user owes after a refund or dispute
    DISPUTED = "disputed", "Disputed"  # frozen while a card dispute is open
    # One per advisor
    ADVISOR_EARNINGS = "advisor_earnings", "Advisor earnings"
    # One per licensee
    LICENSEE_REVENUE = "licensee_revenue", "Licensee revenue"
    CALLRIX_FEE = "callrix_fee", "Callrix fee"
    STRIPE_CLEARING = "stripe_clearing", "Stripe clearing"
    PROMO = "promo", "Promotions and credits"
    # What promotion codes gave (bonus on top-ups), apart from package bonuses and goodwill.
    PROMOTION_CREDIT = "promotion_credit", "Promotion credit"
    REFUNDS = "refunds", "Refunds to cardholders"
    PAYOUTS = "payouts", "Paid out to advisors"
    FORFEITED = "forfeited", "Forfeited balances"


PER_USER_KINDS = [
    AccountKind.WALLET,
    AccountKind.HOLD,
    AccountKind.DEBT,
    AccountKind.DISPUTED,
    AccountKind.ADVISOR_EARNINGS,
]
NON_NEGATIVE_KINDS = [AccountKind.WALLET, AccountKind.HOLD, AccountKind.DISPUTED]


class LedgerAccount(models.Model):
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    # The user (end user or advisor) in this schema; empty for licensee-wide accounts.
    owner_id = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    balance_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "owner_id"],
                name="ledger_account_one_per_owner",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                name="ledger_account_never_negative",
                condition=Q(balance_minor__gte=0) | ~Q(kind__in=NON_NEGATIVE_KINDS),
            ),
            models.CheckConstraint(
                name="ledger_debt_never_positive",
                condition=Q(balance_minor__lte=0) | ~Q(kind=AccountKind.DEBT),
            ),
            models.CheckConstraint(
                name="ledger_account_owner_matches_kind",
                condition=(
                    Q(kind__in=PER_USER_KINDS, owner_id__isnull=False)
                    | (~Q(kind__in=PER_USER_KINDS) & Q(owner_id__isnull=True))
                ),
            ),
        ]

    def __str__(self) -> str:
        owner = f"#{self.owner_id}" if self.owner_id else ""
        return f"{self.kind}{owner}"


class LedgerTransaction(models.Model):
    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32)
    description = models.CharField(max_length=300)
    # References (top-up, call, admin, reason …) — ids, never personal data.
    metadata = models.JSONField(default=dict, blank=True)
    # SHA-256 of the legs as the caller asked for them (before a credit was split between debt
    # and wallet), so a replay of the key with other legs is told apart from a true replay.
    # (A database default too: bulk SQL and older rows have no digest, which reads as "any".)
    legs_digest = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key}"


class LedgerEntry(models.Model):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount_minor = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-id"])]
        constraints = [
            models.CheckConstraint(name="ledger_entry_not_zero", condition=~Q(amount_minor=0)),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount_minor}"


class LedgerAccountShard(models.Model):
    """Part of a licensee-wide account's cached balance (docs/decisions/0015-ledger-fast-path.md).

    Every posting of a licensee touches one of its few licensee-wide accounts (revenue, fee,
    clearing …); one row each would queue all postings behind its lock. Postings add to one of
    SHARDS rows instead, picked by their database transaction, so concurrent postings rarely
    wait on each other. The account's balance is its own `balance_minor` plus its shards."""

    SHARDS = 16

    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="shards")
    shard = models.SmallIntegerField()
    balance_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "shard"], name="ledger_shard_one_per_slot"),
            models.CheckConstraint(
                name="ledger_shard_in_range", condition=Q(shard__gte=0) & Q(shard__lt=16)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.shard}: {self.balance_minor}"
