"""Call billing speed (DESIGN.md §4): how many concurrent active calls one worker thread keeps
billed on time, against a bare ledger posting measured in the same run.

While a call is connected, a `call_bill` job runs every BILLING_TICK_SECONDS for it: lock the
call, work out the talk so far, extend the caller's hold to HOLD_LOOKAHEAD_SECONDS ahead of it
(one ledger posting), save the call and queue the next tick in Redis once it commits. One
billing pass — a tick for every active call, one after another on one worker thread — must
end within the tick, or the last calls of the pass are billed late ("settlement lag"), so
calls/s x BILLING_TICK_SECONDS is the number of calls one worker thread keeps billed on time.
Ending a call settles it: one more ledger transaction (hold -> advisor, licensee, Callrix and
the rest back to the wallet), the advisor freed and the room's closing queued.

- baseline: `ledger_post` with two legs (promo -> wallet, accounts in hand, fresh idempotency
  key), each committed on its own: the bare cost of moving money once;
- billing: for K connected calls (both parties in the room through the real LiveKit-webhook
  path), PASSES passes of `call_bill` over every call, each with the clock moved 10 s on so
  every tick extends its hold as in steady state; then `call_hangup` by every caller.

Baseline batches alternate with the passes so drift hits both alike. Time is frozen and moved
by hand (time-machine leaves `perf_counter` alone). Callers and advisors are reused from one K
to the next, so the ledger, calls and events keep growing over the run, as they would. No job
worker runs: the queued ticks, ring timeouts, pushes and room closings stay in the run's Redis
namespace, which the benchmarks' conftest empties. It all commits, so it runs in a throwaway
licensee whose schema is dropped afterwards.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import Counter
from datetime import datetime, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import services, talk
from tenant_apps.calls.models import Call
from tenant_apps.pricing import charges
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets import services as wallet_services
from tenant_apps.wallets.models import AccountKind, LedgerAccount
from tenant_apps.wallets.services import Leg, account_for
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

CONCURRENT_CALLS = (50, 200, 500)  # K
PASSES = 3  # timed billing passes per K, 10 s of talk apart
TAIL_SECONDS = 5  # talk after the last pass, before everybody hangs up
CREDIT_MINOR = 5_000  # per caller, enough for every K at the default €2.00/min
BASELINE_POSTINGS = 250  # per baseline batch; one batch before each pass and each settlement
BASELINE_WALLETS = 200
BASELINE_OWNERS = range(1_000_001, 1_000_001 + BASELINE_WALLETS)  # apart from real users
TICK = services.BILLING_TICK_SECONDS


def _baseline_batch(label: str, promo: LedgerAccount, wallets: list[LedgerAccount]) -> float:
    """Seconds per bare two-leg posting, each committed on its own."""
    gc.collect()
    start = time.perf_counter()
    for index in range(BASELINE_POSTINGS):
        posting = wallet_services.ledger_post(
            idempotency_key=f"bench-{label}-{index}",
            kind="credit",
            description="benchmark credit",
            legs=[Leg(promo, -1), Leg(wallets[index % len(wallets)], 1)],
        )
        assert posting.created  # a replayed key would be a free no-op and flatter the rate
    return (time.perf_counter() - start) / BASELINE_POSTINGS


def _joined(call: Call, user_id: int, moment: datetime) -> dict:
    """A `participant_joined` webhook as `livekit_gateway.webhook_event_parse` returns it."""
    return {
        "id": f"EV_bench_{call.pk}_{user_id}",
        "event": "participant_joined",
        "room_name": call.room_name,
        "participant_identity": services.identity_of(user_id),
        "created_at": int(moment.timestamp()),
    }


def _connect(pairs: list[tuple[User, Advisor]], moment: datetime) -> list[int]:
    """Request and accept a call per pair, then both parties join its room at `moment`."""
    ids = []
    for caller, advisor in pairs:
        call = services.call_request(caller=caller, advisor_id=advisor.pk)
        services.call_accept(user=advisor.user, call_id=call.pk)
        for user_id, party in ((caller.pk, "caller"), (advisor.user_id, "advisor")):
            outcome = services.livekit_event_apply(event=_joined(call, user_id, moment))
            assert outcome == f"{party} joined", outcome
        ids.append(call.pk)
    talking = Call.objects.filter(pk__in=ids, status="connected", segment_started_at=moment)
    assert talking.count() == len(ids), "every call talks from the moment both joined"
    return ids


def _billing_pass(ids: list[int]) -> tuple[float, list[float]]:
    """One worker's pass: a tick per call, one after another. Returns the pass's seconds and
    when (from its start) each call had been billed."""
    gc.collect()
    outcomes: Counter = Counter()
    billed_at = []
    start = time.perf_counter()
    for call_id in ids:
        outcomes[services.call_bill(call_id=call_id)] += 1
        billed_at.append(time.perf_counter() - start)
    assert outcomes == {"billing": len(ids)}, outcomes
    return billed_at[-1], billed_at


def _settle_all(calls: list[tuple[int, User]]) -> float:
    gc.collect()
    start = time.perf_counter()
    for call_id, caller in calls:
        services.call_hangup(user=caller, call_id=call_id)
    return time.perf_counter() - start


def _statements(work) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        work()
    return [query["sql"] for query in captured.captured_queries]


def _kinds(statements: list[str]) -> str:
    """`12 (3 SELECT, 2 UPDATE, …)`: round trips of a piece of work, by first word."""
    words = Counter(sql.split(None, 1)[0].upper() for sql in statements)
    return f"{len(statements)} ({', '.join(f'{n} {word}' for word, n in words.most_common())})"


def test_call_billing_speed(throwaway_licensee, livekit):
    licensee = throwaway_licensee("billing-bench", "Billing Bench")
    connection.set_tenant(licensee)
    policy = policy_get()
    t0 = timezone.now().replace(microsecond=0)
    traveller = time_machine.travel(t0, tick=False)
    clock = traveller.start()
    try:
        promo = account_for(kind=AccountKind.PROMO)
        baseline_wallets = [
            account_for(kind=AccountKind.WALLET, owner_id=owner) for owner in BASELINE_OWNERS
        ]
        most = max(CONCURRENT_CALLS)
        advisors = [make_advisor(f"advisor{i}@bench.test") for i in range(most)]
        callers = [make_caller(f"caller{i}@bench.test", CREDIT_MINOR) for i in range(most)]
        _baseline_batch("warm-up", promo, baseline_wallets)
        baseline: list[float] = []  # seconds per posting, every batch of the run
        results = {}
        spent: Counter = Counter()  # caller id -> what their calls cost so far
        earned: Counter = Counter()  # advisor's user id -> their share so far
        talk_seconds = PASSES * TICK + TAIL_SECONDS

        for k in CONCURRENT_CALLS:
            connected_at = timezone.now()
            ids = _connect(list(zip(callers[:k], advisors[:k], strict=True)), connected_at)
            sample = Call.objects.get(pk=ids[0])
            passes = []
            for n in range(1, PASSES + 1):
                baseline.append(_baseline_batch(f"{k}-{n}", promo, baseline_wallets))
                clock.move_to(connected_at + timedelta(seconds=n * TICK))
                passes.append(_billing_pass(ids))
                # Every tick extended its call's hold to the lookahead beyond the talk so far.
                held = talk.cost_for(sample, n * TICK + services.HOLD_LOOKAHEAD_SECONDS)
                extended = Call.objects.filter(pk__in=ids, held_minor=held, hold_extensions=n)
                assert extended.count() == k, f"pass {n} of {k}: holds not extended"
            baseline.append(_baseline_batch(f"{k}-settle", promo, baseline_wallets))
            clock.move_to(connected_at + timedelta(seconds=talk_seconds))
            settle_seconds = _settle_all(list(zip(ids, callers[:k], strict=True)))

            cost = talk.cost_for(sample, talk_seconds)
            parts = charges.split(
                amount_minor=cost,
                advisor_share_bps=policy.advisor_share_bps,
                callrix_fee_bps=policy.callrix_fee_bps,
            )
            for call in Call.objects.filter(pk__in=ids).select_related("advisor"):
                assert (call.status, call.end_reason) == ("completed", "hangup_caller"), call
                assert call.talk_seconds == talk_seconds, call
                assert call.cost_minor == talk.cost_for(call, call.talk_seconds) == cost, call
                split = (call.advisor_minor, call.licensee_minor, call.callrix_minor)
                assert split == (parts.advisor_minor, parts.licensee_minor, parts.callrix_minor)
                assert sum(split) == call.cost_minor
                spent[call.caller_id] += call.cost_minor
                earned[call.advisor.user_id] += call.advisor_minor
            freed = Advisor.objects.filter(pk__in=[a.pk for a in advisors[:k]], status="online")
            assert freed.count() == k, "every advisor is free again"
            results[k] = (passes, settle_seconds, cost)

        # Money: nothing left held, every wallet down by exactly what its calls cost, every
        # advisor paid their share, and the ledger's invariants hold.
        for caller in callers:
            balance = wallet_selectors.wallet_balance_get(user_id=caller.pk)
            assert balance.held_minor == 0, caller.pk
            assert balance.available_minor == CREDIT_MINOR - spent[caller.pk], caller.pk
        for advisor in advisors:
            paid = account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=advisor.user_id)
            assert paid.balance_minor == earned[advisor.user_id], advisor.pk
        baseline_total = sum(
            LedgerAccount.objects.filter(pk__in=[w.pk for w in baseline_wallets]).values_list(
                "balance_minor", flat=True
            )
        )
        assert baseline_total == (1 + len(baseline)) * BASELINE_POSTINGS
        assert wallet_selectors.ledger_verify() == []

        # Round trips to PostgreSQL of one tick, one settlement and one bare posting, on one
        # more call (a debug cursor on the timed work would slow it).
        probe_at = timezone.now()
        [probe] = _connect([(callers[0], advisors[0])], probe_at)
        clock.move_to(probe_at + timedelta(seconds=TICK))
        tick_sql = _statements(lambda: services.call_bill(call_id=probe))
        clock.move_to(probe_at + timedelta(seconds=TICK + TAIL_SECONDS))
        settle_sql = _statements(lambda: services.call_hangup(user=callers[0], call_id=probe))
        posting_sql = _statements(lambda: _baseline_batch_one(promo, baseline_wallets[0]))
        assert wallet_selectors.ledger_verify() == []
    finally:
        traveller.stop()

    posting = statistics.median(baseline)
    print(
        f"\nCall billing, one worker thread, in a throwaway licensee; {policy.billing_mode} at "
        f"{sample.rate_minor_per_minute / 100:.2f}/min; a tick every {TICK} s extends the hold "
        f"to {services.HOLD_LOOKAHEAD_SECONDS} s ahead of the talk. Baseline: bare "
        f"ledger_post, 2 legs, own transaction, median of {len(baseline)} batches x "
        f"{BASELINE_POSTINGS} alternating with the passes: {1 / posting:.0f} postings/s, "
        f"{posting * 1000:.2f} ms each ({min(baseline) * 1000:.2f}-{max(baseline) * 1000:.2f})."
    )
    print(
        f"  round trips: bare posting {_kinds(posting_sql)}; tick {_kinds(tick_sql)}; "
        f"settlement {_kinds(settle_sql)}; plus one Redis enqueue after each tick and "
        f"settlement commits"
    )
    print(
        f"  {'K calls':>7} {'pass (median of ' + str(PASSES) + ')':>20} {'ticks/s':>8} "
        f"{'ms/tick':>8} {'lag: last':>10} {'mean':>6} {'on time up to':>14} "
        f"{'tick/posting':>13} {'settle/s':>9} {'ms/settle':>10} {'settle/posting':>15}"
    )
    rates = []
    for k, (passes, settle_seconds, _cost) in results.items():
        seconds = statistics.median(duration for duration, _ in passes)
        mean_lag = statistics.median(statistics.fmean(billed) for _, billed in passes)
        rate = k / seconds
        rates.append(rate)
        per_tick = seconds / k
        per_settle = settle_seconds / k
        print(
            f"  {k:>7} {seconds:>18.2f} s {rate:>8.0f} {per_tick * 1000:>8.2f} "
            f"{seconds:>8.2f} s {mean_lag:>4.2f} s {rate * TICK:>8.0f} calls "
            f"{per_tick / posting:>12.2f}x {k / settle_seconds:>9.0f} {per_settle * 1000:>10.2f} "
            f"{per_settle / posting:>14.2f}x"
        )
    rate = statistics.median(rates)
    print(
        f"  lag is how long after its tick was due a call got billed: the last call of a pass "
        f"waits the whole pass. At ~{rate:.0f} ticks/s one worker thread keeps ~"
        f"{rate * TICK:.0f} calls billed every {TICK} s; beyond that ticks just come later, "
        f"and only past ~{rate * services.HOLD_LOOKAHEAD_SECONDS:.0f} calls would talk outrun "
        f"the {services.HOLD_LOOKAHEAD_SECONDS} s hold lookahead between two ticks."
    )


def _baseline_batch_one(promo: LedgerAccount, wallet: LedgerAccount) -> None:
    wallet_services.ledger_post(
        idempotency_key="bench-probe",
        kind="credit",
        description="benchmark credit",
        legs=[Leg(promo, -1), Leg(wallet, 1)],
    )
