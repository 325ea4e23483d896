"""Ledger speed (docs/architecture.md §6): committed postings per second through `ledger_post`
against the bare balance change done as raw SQL, measured in the same run.

Every posting is a balanced two-leg top-up, a licensee-wide account paying into an end user's
wallet, and commits on its own:

- service: `ledger_post` with a fresh idempotency key (promo -> wallet): both accounts locked
  `FOR UPDATE` in id order, the idempotency look-up, the transaction row in a savepoint, two
  entries (checked by the balancing trigger) and the cached-balance `UPDATE`;
- baseline: raw SQL (stripe_clearing -> wallet), one `UPDATE wallets_ledgeraccount SET
  balance_minor = balance_minor + %s WHERE id = %s` per leg in ascending id order: no entries,
  no idempotency, no lock beyond the UPDATE's own row lock, only the table's CHECKs.

Two shapes, one hot wallet and 200 wallets round-robin, each single-threaded and with 4
threads on their own connections, in rounds alternating service and baseline so drift hits
both alike. The baseline has its own rows (same table), so `ledger_verify()` can judge the
service's postings. Ledger rows cannot be deleted, so it all runs in a throwaway licensee
whose schema is dropped afterwards.
"""

from __future__ import annotations

import gc
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable

from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from tenant_apps.wallets import selectors, services
from tenant_apps.wallets.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from tenant_apps.wallets.services import Leg, account_for

POSTINGS = 1_200  # per variant and side, over the timed rounds
ROUNDS = 4
WARM_UP = 40  # per variant and side, untimed
THREADS = 4
WALLETS = 200
SERVICE_OWNERS = range(1, 1 + WALLETS)
BASELINE_OWNERS = range(10_001, 10_001 + WALLETS)  # apart from the service's wallets
SHAPES = {"one hot wallet": 1, f"{WALLETS} wallets round-robin": WALLETS}
THREAD_COUNTS = (1, THREADS)

RAW_UPDATE = "UPDATE wallets_ledgeraccount SET balance_minor = balance_minor + %s WHERE id = %s"

# (idempotency key, paying account, wallet, amount in minor units)
Plan = list[tuple[str, LedgerAccount, LedgerAccount, int]]
Post = Callable[[str, LedgerAccount, LedgerAccount, int], None]


def _post_service(key: str, source: LedgerAccount, wallet: LedgerAccount, amount: int) -> None:
    posting = services.ledger_post(
        idempotency_key=key,
        kind="topup",
        description="benchmark top-up",
        legs=[Leg(source, -amount), Leg(wallet, amount)],
    )
    assert posting.created, key  # a replayed key would be a free no-op and flatter the rate


def _post_raw(_key: str, source: LedgerAccount, wallet: LedgerAccount, amount: int) -> None:
    # Ascending id, as the service locks, so the threaded runs cannot deadlock either.
    legs = sorted([(source.pk, -amount), (wallet.pk, amount)])
    with transaction.atomic(), connection.cursor() as cursor:
        for account_id, delta in legs:
            cursor.execute(RAW_UPDATE, [delta, account_id])


SIDES: dict[str, tuple[Post, AccountKind, range]] = {
    "service": (_post_service, AccountKind.PROMO, SERVICE_OWNERS),
    "baseline": (_post_raw, AccountKind.STRIPE_CLEARING, BASELINE_OWNERS),
}


def _plan(side: str, label: str, source, wallets, size: int, count: int, expected) -> Plan:
    """`count` postings round-robin over the first `size` wallets, with varied amounts; their
    effect on every balance is added to `expected`."""
    plan = []
    for index in range(count):
        wallet, amount = wallets[index % size], 1 + index % 7
        plan.append((f"bench-{side}-{label}-{index}", source, wallet, amount))
        expected[wallet.pk] += amount
        expected[source.pk] -= amount
    return plan


def _run(post: Post, plan: Plan, threads: int, licensee) -> float:
    """Seconds to commit the whole plan, dealt out over `threads` threads. Connecting and the
    first `SET search_path` of a thread happen before the clock starts."""
    gc.collect()
    if threads == 1:
        connection.ensure_connection()
        start = time.perf_counter()
        for posting in plan:
            post(*posting)
        return time.perf_counter() - start

    ready = threading.Barrier(threads + 1)
    finished = [0.0] * threads
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            connection.set_tenant(licensee)
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            ready.wait()
            for posting in plan[index::threads]:
                post(*posting)
            finished[index] = time.perf_counter()
        except BaseException as error:  # re-raised in the main thread below
            errors.append(error)
            ready.abort()
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass  # a worker failed while connecting; its error is raised below
    start = time.perf_counter()
    for worker in workers:
        worker.join(timeout=120)
    if errors:
        raise errors[0]
    assert not any(worker.is_alive() for worker in workers), "a posting thread hung"
    return max(finished) - start


def _statements(post: Post, plan: Plan) -> int:
    """Round trips one posting makes to the database, BEGIN and COMMIT included."""
    with CaptureQueriesContext(connection) as captured:
        post(*plan[0])
    return len(captured.captured_queries)


def test_ledger_speed(throwaway_licensee):
    licensee = throwaway_licensee("ledger-bench")
    connection.set_tenant(licensee)
    accounts = {
        side: (
            account_for(kind=source_kind),
            [account_for(kind=AccountKind.WALLET, owner_id=owner) for owner in owners],
        )
        for side, (_post, source_kind, owners) in SIDES.items()
    }
    expected: dict[str, Counter] = {side: Counter() for side in SIDES}
    rates: dict[tuple[str, int, str], list[float]] = {}
    statements = {}
    per_round = POSTINGS // ROUNDS

    for shape, size in SHAPES.items():
        for threads in THREAD_COUNTS:
            variant = f"{size}w-{threads}t"
            for round_no in range(1 + ROUNDS):  # round 0 warms up and is not timed
                count = WARM_UP if round_no == 0 else per_round
                sides = list(SIDES) if round_no % 2 else list(SIDES)[::-1]
                for side in sides:
                    post, _kind, _owners = SIDES[side]
                    source, wallets = accounts[side]
                    label = f"{variant}-{round_no}"
                    plan = _plan(side, label, source, wallets, size, count, expected[side])
                    if round_no == 0:
                        statements[side] = _statements(post, plan)
                        plan = plan[1:]
                    seconds = _run(post, plan, threads, licensee)
                    if round_no:
                        rates.setdefault((shape, threads, side), []).append(count / seconds)

    # Every committed posting landed exactly once, on the balances it should.
    connection.set_tenant(licensee)
    for side, (source, wallets) in accounts.items():
        ids = [source.pk, *(wallet.pk for wallet in wallets)]
        balances = dict(LedgerAccount.objects.filter(pk__in=ids).values_list("pk", "balance_minor"))
        assert balances == {pk: expected[side][pk] for pk in ids}, side
    service_postings = len(SHAPES) * len(THREAD_COUNTS) * (WARM_UP + ROUNDS * per_round)
    assert LedgerTransaction.objects.count() == service_postings
    assert LedgerEntry.objects.count() == 2 * service_postings
    # The baseline moved balances without entries, which `ledger_verify()` must notice; its
    # rows then go back to zero so the check judges the service's postings alone.
    baseline_ids = {pk for pk, total in expected["baseline"].items() if total}
    breaches = selectors.ledger_verify()
    assert len(breaches) == len(baseline_ids), breaches
    assert all("but its entries sum to 0" in breach for breach in breaches), breaches
    LedgerAccount.objects.filter(pk__in=baseline_ids).update(balance_minor=0)
    assert selectors.ledger_verify() == []

    print(
        f"\nLedger postings, two legs, each committed on its own, in a throwaway licensee: "
        f"{ROUNDS * per_round} per variant and side in {ROUNDS} alternating rounds (median "
        f"round), after {WARM_UP} untimed each. Threads have their own connections."
    )
    print(
        f"  service:  ledger_post(promo -> wallet), fresh idempotency key; "
        f"{statements['service']} round trips with BEGIN/COMMIT (lock FOR UPDATE, key "
        f"look-up, savepoint + transaction row, 2 entries + balancing trigger, balance UPDATE)"
    )
    print(
        f"  baseline: raw SQL (stripe_clearing -> wallet), '{RAW_UPDATE}' per leg, ascending "
        f"id; {statements['baseline']} round trips with BEGIN/COMMIT (no entries, idempotency or "
        f"explicit lock)"
    )
    print(f"  {'variant':<37} {'service':>10} {'baseline':>10}  service/baseline")
    medians = {key: statistics.median(values) for key, values in rates.items()}
    for shape in SHAPES:
        for threads in THREAD_COUNTS:
            service, baseline = (medians[shape, threads, side] for side in SIDES)
            name = f"{shape}, {threads} thread{'s' if threads > 1 else ''}"
            print(
                f"  {name:<37} {service:6.0f} p/s {baseline:6.0f} p/s  {service / baseline:.2f}x"
                f"  ({1000 / service:.2f} vs {1000 / baseline:.2f} ms per posting)"
            )
    for shape in SHAPES:
        scaling = ", ".join(
            f"{side} {medians[shape, THREADS, side] / medians[shape, 1, side]:.2f}x"
            for side in SIDES
        )
        print(f"  {THREADS} threads / 1 thread, {shape}: {scaling}")
    print(
        f"  Every posting of a side also takes the row lock of its one licensee-wide account "
        f"(promo or stripe_clearing) until it commits, so the {WALLETS} wallets still queue on "
        f"one hot row; the threads share {os.cpu_count()} CPUs with PostgreSQL."
    )
