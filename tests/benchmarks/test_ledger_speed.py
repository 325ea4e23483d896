"""Ledger speed (docs/architecture.md §6, docs/decisions/0015-ledger-fast-path.md): committed
postings per second through the service, `ledger_post`, against the same full posting done as
one SQL function call, measured in the same run (`BENCH ledger_vs_sql_function_hot` and
`ledger_vs_sql_function_spread`, 4 threads, goal 0.5).

Every posting is a balanced two-leg top-up, a licensee-wide account paying into an end user's
wallet debt-first (as `credit_legs` builds it), and commits on its own:

- service: `ledger_post` with a fresh idempotency key (promo -> wallet): the legs checked and
  digested in Python, then the posting function;
- baseline: `SELECT * FROM ledger_post_fast(...)` (stripe_clearing -> wallet) with its
  arguments made beforehand: the same locks in id order, debt look-up, idempotency check,
  transaction row, entries (checked by the balancing trigger), wallet balance and house shard,
  and nothing of Python's.

Two shapes, one hot wallet and 1,000 wallets round-robin, each single-threaded and with 4
threads on their own connections, in rounds alternating service and baseline so drift hits
both alike. Each side has its own accounts (same tables). Ledger rows cannot be deleted, so it
all runs in a throwaway licensee whose schema is dropped afterwards.
"""

from __future__ import annotations

import gc
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenant_apps.wallets import selectors, services
from tenant_apps.wallets.models import (
    AccountKind,
    LedgerAccount,
    LedgerAccountShard,
    LedgerEntry,
    LedgerTransaction,
)
from tenant_apps.wallets.services import Leg, account_for, legs_digest

POSTINGS = 1_200  # per variant and side, over the timed rounds
ROUNDS = 4
WARM_UP = 40  # per variant and side, untimed
THREADS = 4
WALLETS = 1_000
SERVICE_OWNERS = range(1, 1 + WALLETS)
BASELINE_OWNERS = range(10_001, 10_001 + WALLETS)  # apart from the service's wallets
SHAPES = {"one hot wallet": 1, f"{WALLETS:,} wallets round-robin": WALLETS}
BENCH_NAMES = {1: "ledger_vs_sql_function_hot", WALLETS: "ledger_vs_sql_function_spread"}
THREAD_COUNTS = (1, THREADS)

FUNCTION_CALL = (
    "SELECT * FROM ledger_post_fast(%s, 'topup', 'benchmark top-up', '{}'::jsonb, %s, "
    "%s::bigint[], %s::bigint[], %s::boolean[], %s)"
)

# (idempotency key, paying account, wallet, amount in minor units)
Plan = list[tuple[str, LedgerAccount, LedgerAccount, int]]
Post = Callable[[str, LedgerAccount, LedgerAccount, int], None]


def _legs(source: LedgerAccount, wallet: LedgerAccount, amount: int) -> list[Leg]:
    return [Leg(source, -amount), Leg(wallet, amount, settles_debt=True)]


def _post_service(key: str, source: LedgerAccount, wallet: LedgerAccount, amount: int) -> None:
    posting = services.ledger_post(
        idempotency_key=key,
        kind="topup",
        description="benchmark top-up",
        legs=_legs(source, wallet, amount),
    )
    assert posting.created, key  # a replayed key would be a free no-op and flatter the rate


def _function_arguments(plan: Plan) -> dict[str, list]:
    """The SQL side's arguments, made before its clock starts."""
    return {
        key: [
            key,
            legs_digest(_legs(source, wallet, amount)),
            [source.pk, wallet.pk],
            [-amount, amount],
            [False, True],
            timezone.now(),
        ]
        for key, source, wallet, amount in plan
    }


_ARGUMENTS: dict[str, list] = {}


def _post_function(key: str, _source: LedgerAccount, _wallet: LedgerAccount, _amount: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_CALL, _ARGUMENTS[key])
        assert cursor.fetchone()[0] == "posted", key


SIDES: dict[str, tuple[Post, AccountKind, range]] = {
    "service": (_post_service, AccountKind.PROMO, SERVICE_OWNERS),
    "sql function": (_post_function, AccountKind.STRIPE_CLEARING, BASELINE_OWNERS),
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
                    if side == "sql function":
                        _ARGUMENTS.update(_function_arguments(plan))
                    if round_no == 0:
                        statements[side] = _statements(post, plan)
                        plan = plan[1:]
                    seconds = _run(post, plan, threads, licensee)
                    if round_no:
                        rates.setdefault((shape, threads, side), []).append(count / seconds)

    # Every committed posting landed exactly once, on the balances it should; the house
    # accounts' shards add up to theirs, and the ledger checks out.
    connection.set_tenant(licensee)
    for side, (source, wallets) in accounts.items():
        ids = [wallet.pk for wallet in wallets]
        balances = dict(LedgerAccount.objects.filter(pk__in=ids).values_list("pk", "balance_minor"))
        assert balances == {pk: expected[side][pk] for pk in ids}, side
        assert account_for(kind=source.kind).balance_minor == expected[side][source.pk], side
    postings = len(SIDES) * len(SHAPES) * len(THREAD_COUNTS) * (WARM_UP + ROUNDS * per_round)
    assert LedgerTransaction.objects.count() == postings
    assert LedgerEntry.objects.count() == 2 * postings
    assert selectors.ledger_verify() == []
    shards = LedgerAccountShard.objects.filter(account__kind=AccountKind.PROMO).count()

    print(
        f"\nLedger postings, two legs (house account -> wallet, debt-first), each committed on "
        f"its own, in a throwaway licensee: {ROUNDS * per_round} per variant and side in "
        f"{ROUNDS} alternating rounds (median round), after {WARM_UP} untimed each. Threads "
        f"have their own connections."
    )
    print(
        f"  service:      ledger_post(promo -> wallet), fresh idempotency key; "
        f"{statements['service']} round trip(s)"
    )
    print(
        f"  sql function: ledger_post_fast(stripe_clearing -> wallet) called directly, "
        f"arguments made beforehand; {statements['sql function']} round trip(s)"
    )
    print(f"  {'variant':<38} {'service':>10} {'sql function':>12}  service/function")
    medians = {key: statistics.median(values) for key, values in rates.items()}
    for shape in SHAPES:
        for threads in THREAD_COUNTS:
            service, baseline = (medians[shape, threads, side] for side in SIDES)
            name = f"{shape}, {threads} thread{'s' if threads > 1 else ''}"
            print(
                f"  {name:<38} {service:6.0f} p/s {baseline:8.0f} p/s  {service / baseline:.2f}x"
                f"  ({1000 / service:.2f} vs {1000 / baseline:.2f} ms per posting)"
            )
    for shape in SHAPES:
        scaling = ", ".join(
            f"{side} {medians[shape, THREADS, side] / medians[shape, 1, side]:.2f}x"
            for side in SIDES
        )
        print(f"  {THREADS} threads / 1 thread, {shape}: {scaling}")
    print(
        f"  The house account (promo) took its postings on {shards} of its "
        f"{LedgerAccountShard.SHARDS} shards; the threads share {os.cpu_count()} CPUs with "
        f"PostgreSQL."
    )
    for size, name in BENCH_NAMES.items():
        shape = next(label for label, wallets in SHAPES.items() if wallets == size)
        ratio = medians[shape, THREADS, "service"] / medians[shape, THREADS, "sql function"]
        print(f"BENCH {name} {ratio:.2f} goal 0.5")
