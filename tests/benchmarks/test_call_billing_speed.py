"""Due-time call billing (docs/decisions/0009-due-time-billing.md): how many concurrent calls one
worker keeps billed on time, and how late a call's settlement comes after its end.

A connected call needs its billing job only at due times: a hold refill a chunk ahead (every
HOLD_LOOKAHEAD_SECONDS minus the warning and the refill margin of talk), the low-credit warning,
the end of its credit. Measured here on calls connected through the real path (`call_request`,
`call_accept`, both parties' `participant_joined` webhooks), in a throwaway licensee, on one
thread and a frozen clock:

1. CALLS calls talk for WINDOW_SECONDS; a tenth of the callers has credit for only a few
   minutes, so their calls are warned and ended by their jobs. Every job runs at its due time
   in due order, as `call_bill` (lock, refill the hold with one ledger posting, warn or end and
   settle, queue the next job in Redis once it commits), each timed on its own, and each
   followed by one bare ledger posting (the in-run baseline); at the end every caller still
   talking hangs up (the settlement, timed; in production it is the hang-up request itself).
2. A worker process (`callrix worker`, WORKER_THREADS threads) is measured, not assumed:
   SPEEDUP_CALLS more calls reach their first refill at one moment; half of the jobs run one
   after another, half on WORKER_THREADS threads at once (real connections, the interpreter
   lock and PostgreSQL shared as in the worker). Their ratio is what the threads buy here.
3. The measured jobs are replayed as the load of N calls on one worker process: N calls whose
   starts are spread over the window, each running the schedule and the job times of one
   measured call, served in due order by WORKER_THREADS threads, each job taking its
   measured time stretched by WORKER_THREADS / speedup (the threads' contention). The jobs that
   end a call are on a queue of their own and run first (`tasks.call_bill_end`); refills wait
   behind them. A job's lag is how long after its due time it finished.
   `calls_on_time_per_worker` is the largest N (in steps of STEP) whose p99 lag of the jobs
   that end a call stays within a second and whose every refill lands before the hold it
   refills would bring the warning (its slack: the warning and the refill margin);
   `settlement_lag_p99_s` is the p99 lag from a call's end to its settlement at N = 10,000,
   the hang-ups' own settlement times included.

Every call is checked afterwards: talk, cost and split to the minor unit, nothing left held,
wallets and earnings, `ledger verify` clean, and no call talked past its hold.
"""

from __future__ import annotations

import gc
import heapq
import random
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import time_machine
from django.db import connection, connections
from django.utils import timezone

from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import services, talk
from tenant_apps.calls.models import Call
from tenant_apps.calls.services.billing import HOLD_REFILL_MARGIN_SECONDS
from tenant_apps.pricing import charges
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets import services as wallet_services
from tenant_apps.wallets.models import AccountKind, LedgerAccount
from tenant_apps.wallets.services import Leg, account_for
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

CALLS = 200
WINDOW_SECONDS = 30 * 60
SHORT_EVERY = 10  # every 10th caller can pay for a few minutes only
SHORT_CREDIT_MINOR = 1_500  # 7.5 min at the default €2.00/min
CREDIT_MINOR = 20_000  # 100 min
TARGET_CALLS = 10_000
STEP = 500
BASELINE_WALLETS = 200
BASELINE_OWNERS = range(1_000_001, 1_000_001 + BASELINE_WALLETS)  # apart from real users
WARM_UP_POSTINGS = 50
LOOKAHEAD = services.HOLD_LOOKAHEAD_SECONDS
WORKER_THREADS = 4  # `callrix worker --threads`, and the compose file's WORKER_THREADS
SPEEDUP_CALLS = 160  # half measured one after another, half on the threads


class Baseline:
    """Bare two-leg postings (promo -> one of the baseline wallets, round-robin)."""

    def __init__(self) -> None:
        self.promo = account_for(kind=AccountKind.PROMO)
        self.wallets = [account_for(kind=AccountKind.WALLET, owner_id=o) for o in BASELINE_OWNERS]
        self.count = 0
        for _ in range(WARM_UP_POSTINGS):
            self.post()

    def post(self) -> float:
        key, wallet = f"bench-{self.count}", self.wallets[self.count % len(self.wallets)]
        self.count += 1
        start = time.perf_counter()
        posting = wallet_services.ledger_post(
            idempotency_key=key,
            kind="credit",
            description="benchmark credit",
            legs=[Leg(self.promo, -1), Leg(wallet, 1)],
        )
        seconds = time.perf_counter() - start
        assert posting.created, key
        return seconds


def _joined(call: Call, user_id: int, moment: datetime) -> dict:
    return {
        "id": f"EV_bench_{call.pk}_{user_id}",
        "event": "participant_joined",
        "room_name": call.room_name,
        "participant_identity": services.identity_of(user_id),
        "created_at": int(moment.timestamp()),
    }


def _connect(pairs: list[tuple[User, Advisor]], moment: datetime) -> list[int]:
    ids = []
    for caller, advisor in pairs:
        call = services.call_request(caller=caller, advisor_id=advisor.pk)
        services.call_accept(user=advisor.user, call_id=call.pk)
        for user_id in (caller.pk, advisor.user_id):
            services.livekit_event_apply(event=_joined(call, user_id, moment))
        ids.append(call.pk)
    talking = Call.objects.filter(pk__in=ids, status="connected", segment_started_at=moment)
    assert talking.count() == len(ids), "every call talks from the moment both joined"
    return ids


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


Job = tuple[float, float, bool, int]  # due, seconds, ends the call, round


def _replay(
    schedules: list[list[tuple[float, float, bool]]],
    hang_ups: list[float],
    n: int,
    *,
    threads: int = 1,
    stretch: float = 1.0,
    seed: int = 7,
) -> tuple[list[float], list[float], float]:
    """N calls on one worker process, in steady state: each runs the (offset, seconds,
    ends_call) jobs of one measured call from a start spread over the window, wrapped around it
    (a call that ends is replaced by the next), for two rounds. `threads` take the due jobs,
    those that end a call first (their own queue), each for its seconds times `stretch`.
    Returns the second round's lags of the jobs that end a call (the hang-ups' settlements
    added), of the other jobs, and the process's busy share."""
    rng = random.Random(seed)
    jobs: list[Job] = []
    for index in range(n):
        start = rng.uniform(0, WINDOW_SECONDS)
        for offset, seconds, ends in schedules[index % len(schedules)]:
            moment = (start + offset) % WINDOW_SECONDS
            for cycle in (0, 1):
                jobs.append((moment + cycle * WINDOW_SECONDS, seconds * stretch, ends, cycle))
    jobs.sort()
    free = [0.0] * threads  # when each thread is next free (a heap)
    ending: list[Job] = []  # due and waiting, by due time
    other: list[Job] = []
    end_lags: list[float] = []
    other_lags: list[float] = []
    busy, upcoming = 0.0, 0
    while upcoming < len(jobs) or ending or other:
        now = free[0]
        if not ending and not other:
            now = max(now, jobs[upcoming][0])
        while upcoming < len(jobs) and jobs[upcoming][0] <= now:
            heapq.heappush(ending if jobs[upcoming][2] else other, jobs[upcoming])
            upcoming += 1
        due, seconds, ends, cycle = heapq.heappop(ending or other)
        finish = now + seconds
        heapq.heapreplace(free, finish)
        busy += seconds
        if cycle:
            (end_lags if ends else other_lags).append(finish - due)
    # The hang-ups' settlement runs in the web request: its lag is its own duration.
    ended_by_jobs = len(end_lags)
    end_lags += [hang_ups[i % len(hang_ups)] for i in range(max(0, n - ended_by_jobs))]
    return end_lags, other_lags, busy / (2 * WINDOW_SECONDS * threads)


def _process_speedup(licensee, moment: datetime, clock) -> tuple[float, float, float]:
    """How much faster WORKER_THREADS threads bill than one, measured: SPEEDUP_CALLS calls
    connected at `moment` reach their first refill together; half are billed one after
    another, half by the threads at once. Returns the speedup and both jobs' mean seconds.
    The calls are hung up and settled afterwards."""
    pairs = [
        (make_caller(f"speed{i}@bench.test", CREDIT_MINOR), make_advisor(f"adv-s{i}@bench.test"))
        for i in range(SPEEDUP_CALLS)
    ]
    ids = _connect(pairs, moment)
    due = Call.objects.get(pk=ids[0]).billing_due_at
    assert Call.objects.filter(pk__in=ids, billing_due_at=due).count() == len(ids)
    clock.move_to(due)
    serial, threaded = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    ready = threading.Barrier(WORKER_THREADS)

    def thread_start() -> None:
        connection.set_tenant(licensee)  # each thread has its own connection, as in dramatiq
        Call.objects.filter(pk=ids[0]).exists()
        ready.wait(timeout=60)

    def bill(call_id: int) -> str:
        return services.call_bill(call_id=call_id, due=due)

    gc.collect()
    begin = time.perf_counter()
    outcomes = [bill(call_id) for call_id in serial]
    one_thread = (time.perf_counter() - begin) / len(serial)
    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as pool:
        for started in [pool.submit(thread_start) for _ in range(WORKER_THREADS)]:
            started.result()
        begin = time.perf_counter()
        outcomes += list(pool.map(bill, threaded))
        many_threads = (time.perf_counter() - begin) / len(threaded)
        done = threading.Barrier(WORKER_THREADS)

        def thread_close() -> None:
            connections.close_all()
            done.wait(timeout=60)  # so that every thread of the pool closes its own

        for closed in [pool.submit(thread_close) for _ in range(WORKER_THREADS)]:
            closed.result()
    assert outcomes == ["billing"] * len(ids), Counter(outcomes)
    assert Call.objects.filter(pk__in=ids, hold_extensions=1).count() == len(ids)
    for call_id, (caller, _) in zip(ids, pairs, strict=True):
        services.call_hangup(user=caller, call_id=call_id)
    return one_thread / many_threads, one_thread, many_threads


def test_call_billing_speed(throwaway_licensee, livekit):
    licensee = throwaway_licensee("billing-bench", "Billing Bench")
    connection.set_tenant(licensee)
    policy = policy_get()
    traveller = time_machine.travel(timezone.now().replace(microsecond=0), tick=False)
    clock = traveller.start()
    try:
        advisors = [make_advisor(f"advisor{i}@bench.test") for i in range(CALLS)]
        callers = [
            make_caller(
                f"caller{i}@bench.test",
                SHORT_CREDIT_MINOR if i % SHORT_EVERY == 0 else CREDIT_MINOR,
            )
            for i in range(CALLS)
        ]
        baseline = Baseline()
        started = timezone.now()
        ids = _connect(list(zip(callers, advisors, strict=True)), started)
        window_end = started + timedelta(seconds=WINDOW_SECONDS)

        # Every job at its due time, in due order, as one worker thread would run them.
        due = list(
            Call.objects.filter(pk__in=ids).values_list("billing_due_at", "pk").order_by("pk")
        )
        heapq.heapify(due)
        schedules: dict[int, list[tuple[float, float, bool]]] = {pk: [] for pk in ids}
        outcomes: Counter = Counter()
        bare: list[float] = []
        gc.collect()
        while due and due[0][0] <= window_end:
            moment, call_id = heapq.heappop(due)
            clock.move_to(moment)
            begin = time.perf_counter()
            outcome = services.call_bill(call_id=call_id, due=moment)
            seconds = time.perf_counter() - begin
            bare.append(baseline.post())
            outcomes[outcome] += 1
            offset = (moment - started).total_seconds()
            schedules[call_id].append((offset, seconds, outcome.startswith("ended")))
            following = Call.objects.values_list("status", "billing_due_at").get(pk=call_id)
            if following[0] == "connected":
                heapq.heappush(due, (following[1], call_id))

        clock.move_to(window_end)
        hang_ups = []
        for call_id, caller in zip(ids, callers, strict=True):
            if Call.objects.filter(pk=call_id, status="connected").exists():
                begin = time.perf_counter()
                services.call_hangup(user=caller, call_id=call_id)
                hang_ups.append(time.perf_counter() - begin)
                schedules[call_id].append((WINDOW_SECONDS, 0.0, False))

        # Every call ended on exactly its talk and never talked past what was held.
        balances = {
            (kind, owner): balance
            for kind, owner, balance in LedgerAccount.objects.filter(
                owner_id__in=[c.pk for c in callers] + [a.user_id for a in advisors],
                kind__in=[AccountKind.WALLET, AccountKind.HOLD, AccountKind.ADVISOR_EARNINGS],
            ).values_list("kind", "owner_id", "balance_minor")
        }
        short_ends = 0
        for index, call in enumerate(Call.objects.filter(pk__in=ids).order_by("pk")):
            credit = SHORT_CREDIT_MINOR if index % SHORT_EVERY == 0 else CREDIT_MINOR
            if index % SHORT_EVERY == 0:
                seconds = charges.seconds_covered(
                    amount_minor=credit,
                    rate_minor_per_minute=call.rate_minor_per_minute,
                    billing_mode=call.billing_mode,
                )
                assert (call.end_reason, call.talk_seconds) == ("funds_exhausted", seconds), call
                assert call.low_funds_warned_at is not None, call
                short_ends += 1
            else:
                assert (call.end_reason, call.talk_seconds) == ("hangup_caller", WINDOW_SECONDS)
            assert call.cost_minor == talk.cost_for(call, call.talk_seconds) > 0, call
            parts = charges.split(
                amount_minor=call.cost_minor,
                advisor_share_bps=policy.advisor_share_bps,
                callrix_fee_bps=policy.callrix_fee_bps,
            )
            split = (call.advisor_minor, call.licensee_minor, call.callrix_minor)
            assert split == (parts.advisor_minor, parts.licensee_minor, parts.callrix_minor)
            assert balances[AccountKind.HOLD, call.caller_id] == 0, call
            assert balances[AccountKind.WALLET, call.caller_id] == credit - call.cost_minor
        assert short_ends == CALLS // SHORT_EVERY
        assert wallet_selectors.ledger_verify() == []
        speedup, one_thread, many_threads = _process_speedup(licensee, timezone.now(), clock)
        assert wallet_selectors.ledger_verify() == []
    finally:
        traveller.stop()

    job_seconds = [s for schedule in schedules.values() for _, s, _ in schedule if s]
    per_call_minute = sum(job_seconds) / (CALLS * WINDOW_SECONDS / 60)
    replayable = list(schedules.values())
    slack = policy.low_funds_warning_seconds + HOLD_REFILL_MARGIN_SECONDS
    stretch = WORKER_THREADS / min(speedup, WORKER_THREADS)

    def capacity(threads: int, stretch: float) -> int:
        on_time = 0
        for n in range(STEP, 20 * TARGET_CALLS + 1, STEP):
            end_lags, other_lags, busy = _replay(
                replayable, hang_ups, n, threads=threads, stretch=stretch
            )
            late = _percentile(end_lags, 0.99) > 1.0 or max(other_lags, default=0) > slack
            if busy >= 1 or late:
                break
            on_time = n
        return on_time

    per_thread = capacity(1, 1.0)
    on_time = capacity(WORKER_THREADS, stretch)
    lags, _, busy = _replay(
        replayable, hang_ups, TARGET_CALLS, threads=WORKER_THREADS, stretch=stretch
    )
    lag_p99 = _percentile(lags, 0.99)

    print(
        f"\nDue-time call billing, {CALLS} calls over {WINDOW_SECONDS // 60} min of talk on one "
        f"thread (every {SHORT_EVERY}th caller short of credit), {policy.billing_mode} at "
        f"{advisors[0].rate_minor_per_minute / 100:.2f}/min; chunk {LOOKAHEAD} s"
    )
    print(
        f"  jobs: {sum(outcomes.values())} ({dict(outcomes)}), "
        f"{len(job_seconds) / (CALLS * WINDOW_SECONDS / 60):.2f} per call-minute; "
        f"{statistics.median(job_seconds) * 1000:.2f} ms median, "
        f"{_percentile(job_seconds, 0.99) * 1000:.2f} ms p99; bare posting "
        f"{statistics.median(bare) * 1000:.2f} ms median: a job costs "
        f"{sum(job_seconds) / sum(bare):.2f} postings"
    )
    print(
        f"  worker time per call-minute {per_call_minute * 1000:.2f} ms; hang-up settlement "
        f"{statistics.median(hang_ups) * 1000:.1f} ms median, "
        f"{_percentile(hang_ups, 0.99) * 1000:.1f} ms p99 ({len(hang_ups)} hang-ups)"
    )
    print(
        f"  {WORKER_THREADS} threads bill {speedup:.2f}x as fast as one ({one_thread * 1000:.1f} "
        f"ms a job alone, {many_threads * 1000:.1f} ms of wall time a job on {WORKER_THREADS}); "
        f"one thread alone keeps {per_thread} calls on time"
    )
    print(
        f"  at {TARGET_CALLS} calls on one worker process: busy {busy:.0%}, settlement lag "
        f"p50 {_percentile(lags, 0.5):.3f} s, p99 {lag_p99:.3f} s"
    )
    print(f"BENCH calls_on_time_per_worker {on_time} goal {TARGET_CALLS}")
    print(f"BENCH settlement_lag_p99_s {lag_p99:.3f} goal 1.0")
