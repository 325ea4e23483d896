"""Ledger semantics: credit reaching a wallet pays the owner's debt first, in the same
posting; an idempotency key reused with other legs or amounts is refused."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.wallets import selectors, services
from tenant_apps.wallets.errors import IdempotencyMismatch, InvalidAmount
from tenant_apps.wallets.models import AccountKind, LedgerEntry, LedgerTransaction
from tenant_apps.wallets.services import Leg, account_for

pytestmark = pytest.mark.django_db

USER = 5151


@pytest.fixture
def in_alpha(alpha):
    with schema_context(alpha.schema_name):
        connection.tenant = alpha
        yield alpha


def _fund(amount: int, key: str = "fund") -> None:
    services.ledger_post(
        idempotency_key=key,
        kind="topup",
        description="funding",
        legs=services.credit_legs(
            user_id=USER, amount_minor=amount, source=account_for(kind=AccountKind.STRIPE_CLEARING)
        ),
    )


def _owe(amount: int, key: str = "refund") -> None:
    """A refund taken from an empty wallet: the user now owes `amount`."""
    services.ledger_post(
        idempotency_key=key,
        kind="refund",
        description="refund",
        legs=[
            Leg(account_for(kind=AccountKind.DEBT, owner_id=USER), -amount),
            Leg(account_for(kind=AccountKind.REFUNDS), amount),
        ],
    )


def _balances() -> tuple[int, int, int]:
    balance = selectors.wallet_balance_get(user_id=USER)
    return balance.available_minor, balance.held_minor, balance.owed_minor


def test_a_released_hold_pays_the_debt_a_refund_left_during_the_call(in_alpha):
    _fund(1_000)
    services.hold_place(user_id=USER, amount_minor=1_000, idempotency_key="h", description="call")
    _owe(500)  # a refund lands while the call runs: the wallet is empty, so it becomes debt
    assert _balances() == (0, 1_000, 500)
    services.hold_release(user_id=USER, amount_minor=1_000, idempotency_key="r", description="end")
    assert _balances() == (500, 0, 0)
    posting = LedgerTransaction.objects.get(idempotency_key="r")
    moved = dict(posting.entries.values_list("account__kind", "amount_minor"))
    assert moved == {"hold": -1_000, "debt": 500, "wallet": 500}
    assert selectors.ledger_verify() == []


def test_a_settlement_releases_the_rest_of_the_hold_to_the_debt_first(in_alpha):
    _fund(1_000)
    services.hold_place(user_id=USER, amount_minor=1_000, idempotency_key="h", description="call")
    _owe(800)
    services.hold_capture(
        user_id=USER,
        credits=[Leg(account_for(kind=AccountKind.LICENSEE_REVENUE), 400)],
        release_minor=600,
        idempotency_key="settle",
        description="call",
    )
    # 600 released, all of it to the 800 owed: no credit while 200 is still owed.
    assert _balances() == (0, 0, 200)
    assert selectors.ledger_verify() == []


def test_a_top_up_smaller_than_the_debt_only_reduces_it(in_alpha):
    _owe(700)
    _fund(300, key="t1")
    assert _balances() == (0, 0, 400)
    _fund(1_000, key="t2")
    assert _balances() == (600, 0, 0)


def test_a_replay_of_a_debt_first_credit_is_a_replay_even_when_the_debt_changed(in_alpha):
    _owe(300)
    _fund(1_000, key="same")
    services.hold_place(user_id=USER, amount_minor=700, idempotency_key="h", description="call")
    _owe(200, key="second refund")
    _fund(1_000, key="same")  # the job runs again: the same request, nothing more posted
    assert _balances() == (0, 700, 200)
    assert LedgerTransaction.objects.filter(idempotency_key="same").count() == 1


def test_only_a_credit_to_a_wallet_can_settle_debt(in_alpha):
    with pytest.raises(InvalidAmount):
        services.ledger_post(
            idempotency_key="bad",
            kind="x",
            description="x",
            legs=[
                Leg(account_for(kind=AccountKind.PROMO), 100),
                Leg(account_for(kind=AccountKind.HOLD, owner_id=USER), -100, settles_debt=True),
            ],
        )


@pytest.mark.parametrize(
    "replayed",
    [
        [(AccountKind.PROMO, -900), (AccountKind.WALLET, 900)],  # another amount
        [(AccountKind.STRIPE_CLEARING, -500), (AccountKind.WALLET, 500)],  # another account
        [(AccountKind.PROMO, -500), (AccountKind.WALLET, 400), (AccountKind.HOLD, 100)],
    ],
)
def test_a_key_reused_with_other_legs_is_refused_with_409_and_changes_nothing(in_alpha, replayed):
    def legs(spec):
        return [
            Leg(account_for(kind=kind, owner_id=USER if kind in ("wallet", "hold") else None), a)
            for kind, a in spec
        ]

    services.ledger_post(
        idempotency_key="k",
        kind="credit",
        description="x",
        legs=legs([(AccountKind.PROMO, -500), (AccountKind.WALLET, 500)]),
    )
    entries = LedgerEntry.objects.count()
    with pytest.raises(IdempotencyMismatch) as refused:
        services.ledger_post(
            idempotency_key="k", kind="credit", description="x", legs=legs(replayed)
        )
    assert (refused.value.status_code, refused.value.code) == (409, "idempotency_mismatch")
    assert refused.value.field == "idempotency_key"
    assert LedgerEntry.objects.count() == entries
    assert _balances() == (500, 0, 0)
