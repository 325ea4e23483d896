"""The double-entry ledger: postings, holds, idempotency and the database's own guards."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from tenant_apps.wallets import selectors, services
from tenant_apps.wallets.errors import InsufficientFunds, InvalidAmount, UnbalancedPosting
from tenant_apps.wallets.models import AccountKind, LedgerEntry, LedgerTransaction
from tenant_apps.wallets.services import Leg, account_for

pytestmark = pytest.mark.django_db

USER = 4242


def _fund(user_id: int, amount: int, key: str = "fund") -> None:
    services.ledger_post(
        idempotency_key=f"{key}:{user_id}",
        kind="topup",
        description="funding",
        legs=[
            Leg(account_for(kind=AccountKind.STRIPE_CLEARING), -amount),
            Leg(account_for(kind=AccountKind.WALLET, owner_id=user_id), amount),
        ],
    )


@pytest.fixture
def in_alpha(alpha):
    with schema_context(alpha.schema_name):
        connection.tenant = alpha
        yield alpha


def test_a_posting_moves_money_and_caches_balances(in_alpha):
    _fund(USER, 2_000)
    assert selectors.wallet_balance_get(user_id=USER).available_minor == 2_000
    assert account_for(kind=AccountKind.STRIPE_CLEARING).balance_minor == -2_000
    assert selectors.ledger_verify() == []


def test_the_same_key_posts_once_and_returns_the_first_result(in_alpha):
    first = services.ledger_post(
        idempotency_key="k-1",
        kind="topup",
        description="x",
        legs=[
            Leg(account_for(kind=AccountKind.PROMO), -500),
            Leg(account_for(kind=AccountKind.WALLET, owner_id=USER), 500),
        ],
    )
    again = services.ledger_post(
        idempotency_key="k-1",
        kind="topup",
        description="the same legs, listed the other way round",
        legs=[
            Leg(account_for(kind=AccountKind.WALLET, owner_id=USER), 500),
            Leg(account_for(kind=AccountKind.PROMO), -500),
        ],
    )
    assert first.created and not again.created
    assert again.transaction.pk == first.transaction.pk
    assert selectors.wallet_balance_get(user_id=USER).available_minor == 500


def test_unbalanced_and_empty_postings_are_refused(in_alpha):
    with pytest.raises(UnbalancedPosting):
        services.ledger_post(
            idempotency_key="bad",
            kind="x",
            description="x",
            legs=[
                Leg(account_for(kind=AccountKind.PROMO), -5),
                Leg(account_for(kind=AccountKind.WALLET, owner_id=USER), 4),
            ],
        )
    with pytest.raises(InvalidAmount):
        services.ledger_post(idempotency_key="none", kind="x", description="x", legs=[])
    assert not LedgerTransaction.objects.exists()


def test_overdrawing_a_wallet_is_refused_and_changes_nothing(in_alpha):
    _fund(USER, 300)
    with pytest.raises(InsufficientFunds):
        services.hold_place(user_id=USER, amount_minor=301, idempotency_key="h", description="h")
    balance = selectors.wallet_balance_get(user_id=USER)
    assert (balance.available_minor, balance.held_minor) == (300, 0)
    assert LedgerTransaction.objects.count() == 1


def test_holds_place_extend_capture_partially_and_release(in_alpha):
    _fund(USER, 1_000)
    services.hold_place(user_id=USER, amount_minor=400, idempotency_key="h1", description="hold")
    services.hold_place(user_id=USER, amount_minor=100, idempotency_key="h2", description="more")
    balance = selectors.wallet_balance_get(user_id=USER)
    assert (balance.balance_minor, balance.held_minor, balance.available_minor) == (1_000, 500, 500)
    advisor = account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=77)
    services.hold_capture(
        user_id=USER,
        idempotency_key="cap",
        description="call",
        credits=[Leg(advisor, 200), Leg(account_for(kind=AccountKind.CALLRIX_FEE), 17)],
        release_minor=283,
    )
    balance = selectors.wallet_balance_get(user_id=USER)
    assert (balance.balance_minor, balance.held_minor, balance.available_minor) == (783, 0, 783)
    services.hold_place(user_id=USER, amount_minor=83, idempotency_key="h3", description="h")
    services.hold_release(user_id=USER, amount_minor=83, idempotency_key="r3", description="r")
    assert selectors.wallet_balance_get(user_id=USER).available_minor == 783
    assert account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=77).balance_minor == 200
    assert selectors.ledger_verify() == []


def test_releasing_more_than_is_held_is_refused(in_alpha):
    _fund(USER, 100)
    services.hold_place(user_id=USER, amount_minor=50, idempotency_key="h", description="h")
    with pytest.raises(InsufficientFunds):
        services.hold_release(user_id=USER, amount_minor=51, idempotency_key="r", description="r")


def test_entries_and_transactions_cannot_be_changed_or_deleted(in_alpha):
    _fund(USER, 100)
    with connection.cursor() as cursor:  # fire Django's deferred FK checks now (for TRUNCATE)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for statement in (
        "UPDATE wallets_ledgerentry SET amount_minor = amount_minor + 1",
        "DELETE FROM wallets_ledgerentry",
        "UPDATE wallets_ledgertransaction SET description = 'x'",
        "DELETE FROM wallets_ledgertransaction",
        "TRUNCATE wallets_ledgerentry CASCADE",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert LedgerEntry.objects.count() == 2


def test_the_database_refuses_an_unbalanced_transaction(in_alpha):
    _fund(USER, 100)
    posted = LedgerTransaction.objects.get()
    wallet = account_for(kind=AccountKind.WALLET, owner_id=USER)
    with pytest.raises(DatabaseError, match="does not sum to zero"), transaction.atomic():
        LedgerEntry.objects.create(transaction=posted, account=wallet, amount_minor=5)


def test_the_database_refuses_a_negative_wallet(in_alpha):
    _fund(USER, 100)
    with pytest.raises(DatabaseError, match="ledger_account_never_negative"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE wallets_ledgeraccount SET balance_minor = -1 WHERE kind = 'wallet'"
            )


def test_ledger_verify_catches_a_tampered_balance(in_alpha):
    _fund(USER, 100)
    out = StringIO()
    call_command("ledger", "verify", "--licensee", "alpha", stdout=out)
    assert "alpha: ledger clean" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE wallets_ledgeraccount SET balance_minor = 150 WHERE kind = 'wallet'")
    assert any("caches 150" in breach for breach in selectors.ledger_verify())
    out = StringIO()
    with pytest.raises(CommandError, match="breaches"):
        call_command("ledger", "verify", stdout=out)
    assert "alpha: 1 breach" in out.getvalue()
    assert "beta: ledger clean" in out.getvalue()


def test_ledgers_are_per_licensee(alpha, beta):
    with schema_context("alpha"):
        connection.tenant = alpha
        _fund(USER, 700)
    with schema_context("beta"):
        connection.tenant = beta
        assert selectors.wallet_balance_get(user_id=USER).available_minor == 0
        assert not LedgerTransaction.objects.exists()
