"""Concurrent postings on real connections: never negative, every cent accounted for, no
deadlock. These commit, so they run in a throwaway licensee dropped afterwards."""

from __future__ import annotations

import threading
from collections import Counter

from django.db import DatabaseError, connection, connections

from tenant_apps.wallets import selectors, services
from tenant_apps.wallets.errors import InsufficientFunds
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for


def _in_threads(licensee, work, count: int) -> Counter:
    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            connection.set_tenant(licensee)
            start.wait()
            result = work(index)
        except InsufficientFunds:
            result = "refused"
        except DatabaseError as error:  # a deadlock would surface here
            result = f"db-error: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_fifty_parallel_holds_on_a_wallet_with_too_little_money(throwaway_licensee):
    licensee = throwaway_licensee("ledger-race")
    connection.set_tenant(licensee)
    services.ledger_post(
        idempotency_key="fund",
        kind="topup",
        description="funding",
        legs=[
            Leg(account_for(kind=AccountKind.STRIPE_CLEARING), -1_000),
            Leg(account_for(kind=AccountKind.WALLET, owner_id=1), 1_000),
        ],
    )

    def hold(index: int) -> str:
        services.hold_place(
            user_id=1, amount_minor=30, idempotency_key=f"hold-{index}", description="call"
        )
        return "held"

    outcomes = _in_threads(licensee, hold, 50)
    connection.set_tenant(licensee)
    assert outcomes == Counter({"held": 33, "refused": 17})
    balance = selectors.wallet_balance_get(user_id=1)
    assert (balance.available_minor, balance.held_minor) == (10, 990)
    assert selectors.ledger_verify() == []


def test_parallel_transfers_in_opposite_directions_do_not_deadlock(throwaway_licensee):
    licensee = throwaway_licensee("ledger-cross")
    connection.set_tenant(licensee)
    for user in (1, 2):
        services.ledger_post(
            idempotency_key=f"fund-{user}",
            kind="topup",
            description="funding",
            legs=[
                Leg(account_for(kind=AccountKind.STRIPE_CLEARING), -10_000),
                Leg(account_for(kind=AccountKind.WALLET, owner_id=user), 10_000),
            ],
        )
    wallets = {u: account_for(kind=AccountKind.WALLET, owner_id=u) for u in (1, 2)}

    def transfer(index: int) -> str:
        source, target = (1, 2) if index % 2 else (2, 1)
        for step in range(10):
            services.ledger_post(
                idempotency_key=f"t-{index}-{step}",
                kind="transfer",
                description="t",
                legs=[
                    Leg(wallets[source], -7),
                    Leg(wallets[target], 7),
                    Leg(account_for(kind=AccountKind.PROMO), -1),
                    Leg(account_for(kind=AccountKind.LICENSEE_REVENUE), 1),
                ],
            )
        return "done"

    outcomes = _in_threads(licensee, transfer, 20)
    connection.set_tenant(licensee)
    assert outcomes == Counter({"done": 20})
    total = sum(selectors.wallet_balance_get(user_id=u).available_minor for u in (1, 2))
    assert total == 20_000
    assert account_for(kind=AccountKind.LICENSEE_REVENUE).balance_minor == 200
    assert selectors.ledger_verify() == []
