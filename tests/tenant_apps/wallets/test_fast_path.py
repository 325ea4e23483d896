"""The ledger's fast path (docs/decisions/0015-ledger-fast-path.md): one round trip a posting,
licensee-wide accounts in shards, `ledger_verify` exact over the shards, and a licensee's
posting never reaching another licensee's accounts."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.wallets import selectors, services
from tenant_apps.wallets.errors import IdempotencyMismatch, InsufficientFunds
from tenant_apps.wallets.models import AccountKind, LedgerAccount, LedgerAccountShard
from tenant_apps.wallets.services import Leg, account_for

pytestmark = pytest.mark.django_db

USER = 6161


@pytest.fixture
def in_alpha(alpha):
    with schema_context(alpha.schema_name):
        connection.tenant = alpha
        yield alpha


def _top_up(amount: int, key: str) -> services.Posting:
    return services.ledger_post(
        idempotency_key=key,
        kind="topup",
        description="top-up",
        legs=services.credit_legs(
            user_id=USER, amount_minor=amount, source=account_for(kind=AccountKind.STRIPE_CLEARING)
        ),
    )


def test_a_posting_is_one_round_trip_and_reads_back_as_stored(in_alpha):
    clearing = account_for(kind=AccountKind.STRIPE_CLEARING)
    wallet = account_for(kind=AccountKind.WALLET, owner_id=USER)
    with CaptureQueriesContext(connection) as captured:
        posting = services.ledger_post(
            idempotency_key="fast:one",
            kind="topup",
            description="top-up",
            metadata={"topup": 7},
            legs=[Leg(clearing, -500), Leg(wallet, 500, settles_debt=True)],
        )
    assert len(captured.captured_queries) == 1
    stored = type(posting.transaction).objects.get(pk=posting.transaction.pk)
    assert posting.created and posting.transaction.created_at == stored.created_at
    assert (stored.kind, stored.metadata) == ("topup", {"topup": 7})
    assert stored.legs_digest == posting.transaction.legs_digest != ""


def test_licensee_wide_changes_go_to_shards_and_verify_counts_them(in_alpha):
    for index in range(5):
        _top_up(100, f"fast:shard:{index}")
    clearing = account_for(kind=AccountKind.STRIPE_CLEARING)
    row = LedgerAccount.objects.get(pk=clearing.pk)
    # The row is not touched by postings; its shards carry the change.
    assert row.balance_minor == 0 and clearing.balance_minor == -500
    assert LedgerAccountShard.objects.filter(account=clearing).exists()
    assert selectors.house_balances()[AccountKind.STRIPE_CLEARING] == -500
    assert account_for(kind=AccountKind.WALLET, owner_id=USER).balance_minor == 500
    assert selectors.ledger_verify() == []

    # A shard that drifts from the entries is a breach, as a cached balance would be.
    shard = LedgerAccountShard.objects.filter(account=clearing).first()
    LedgerAccountShard.objects.filter(pk=shard.pk).update(balance_minor=shard.balance_minor + 1)
    assert selectors.ledger_verify() == [
        f"account {clearing.pk} (stripe_clearing) caches -499 but its entries sum to -500"
    ]
    # Only licensee-wide accounts have shards.
    LedgerAccountShard.objects.filter(pk=shard.pk).update(balance_minor=shard.balance_minor)
    wallet = account_for(kind=AccountKind.WALLET, owner_id=USER)
    LedgerAccountShard.objects.create(account=wallet, shard=0, balance_minor=0)
    assert selectors.ledger_verify() == [f"account {wallet.pk} (wallet) is a user's but has shards"]


def test_refusals_write_nothing_and_leave_the_callers_transaction_usable(in_alpha):
    _top_up(300, "fast:fund")
    wallet = account_for(kind=AccountKind.WALLET, owner_id=USER)
    hold = account_for(kind=AccountKind.HOLD, owner_id=USER)
    with transaction.atomic():
        with pytest.raises(InsufficientFunds):
            services.ledger_post(
                idempotency_key="fast:too-much",
                kind="hold",
                description="hold",
                legs=[Leg(wallet, -301), Leg(hold, 301)],
            )
        with pytest.raises(IdempotencyMismatch):
            _top_up(301, "fast:fund")
        # Still usable: the next posting in the same transaction commits with it.
        services.hold_place(
            user_id=USER, amount_minor=300, idempotency_key="fast:ok", description=""
        )
    assert account_for(kind=AccountKind.HOLD, owner_id=USER).balance_minor == 300
    assert (
        not type(_top_up(300, "fast:fund").transaction)
        .objects.filter(idempotency_key="fast:too-much")
        .exists()
    )
    assert selectors.ledger_verify() == []


def test_a_replay_of_licensee_wide_legs_alone_is_recognised(in_alpha):
    """No owner-bound account is locked here, so the key's uniqueness is what tells."""
    legs = [
        Leg(account_for(kind=AccountKind.PROMO), -40),
        Leg(account_for(kind=AccountKind.LICENSEE_REVENUE), 40),
    ]
    first = services.ledger_post(
        idempotency_key="fast:house", kind="adj", description="", legs=legs
    )
    again = services.ledger_post(
        idempotency_key="fast:house", kind="adj", description="", legs=legs
    )
    assert first.created and not again.created
    assert again.transaction.pk == first.transaction.pk
    assert account_for(kind=AccountKind.LICENSEE_REVENUE).balance_minor == 40


def test_a_posting_cannot_reach_another_licensees_accounts(alpha, beta):
    """The function's names resolve in the caller's schema: an account of alpha's, named by id
    from beta's side, is not found there (beta has no such id), and alpha's books stay put."""
    with schema_context(alpha.schema_name):
        connection.tenant = alpha
        alpha_wallet = LedgerAccount.objects.create(
            pk=900_001, kind=AccountKind.WALLET, owner_id=USER, currency="EUR"
        )
        _top_up(250, "fast:alpha")
    with schema_context(beta.schema_name):
        connection.tenant = beta
        assert not LedgerAccount.objects.filter(pk=alpha_wallet.pk).exists()
        with pytest.raises(IntegrityError), transaction.atomic():
            services.ledger_post(
                idempotency_key="fast:cross",
                kind="topup",
                description="",
                legs=[Leg(account_for(kind=AccountKind.PROMO), -50), Leg(alpha_wallet, 50)],
            )
        assert selectors.ledger_verify() == []
    with schema_context(alpha.schema_name):
        connection.tenant = alpha
        assert account_for(kind=AccountKind.WALLET, owner_id=USER).balance_minor == 250
        assert account_for(kind=AccountKind.STRIPE_CLEARING).balance_minor == -250
        assert selectors.ledger_verify() == []


def test_the_verify_command_judges_row_and_shards_together(alpha, beta):
    """`callrix ledger verify`: clean over sharded house accounts; a drifted shard is named
    at its own licensee only."""
    with schema_context(alpha.schema_name):
        connection.tenant = alpha
        for index in range(3):
            _top_up(70, f"fast:cmd:{index}")
    out = StringIO()
    call_command("ledger", "verify", "--licensee", "alpha", stdout=out)
    assert "alpha: ledger clean" in out.getvalue()

    with schema_context(alpha.schema_name):
        clearing = account_for(kind=AccountKind.STRIPE_CLEARING)
        LedgerAccountShard.objects.filter(account=clearing).update(balance_minor=0)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("ledger", "verify", stdout=out)
    assert "alpha: 1 breach(es)" in out.getvalue()
    assert f"account {clearing.pk} (stripe_clearing) caches 0 but its entries sum to -210" in (
        out.getvalue()
    )
    assert "beta: ledger clean" in out.getvalue()
