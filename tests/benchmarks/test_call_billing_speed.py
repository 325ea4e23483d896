"""Call billing speed (docs/architecture.md §5): how many concurrent active calls one worker
thread keeps billed on time, against a bare ledger posting measured in the same run.

While a call is connected, a `call_bill` job runs for it every BILLING_TICK_SECONDS: lock the
call, work out the talk so far, extend the caller's hold to HOLD_LOOKAHEAD_SECONDS ahead of it
(one ledger posting), save the call and, once that commits, queue the next tick in Redis. A
billing pass — a tick for every active call, one after another on one worker thread — has to
end within the tick, or the last calls of the pass are billed late (the settlement lag); so
ticks/s x BILLING_TICK_SECONDS is how many calls one worker thread keeps billed on time.
Hanging up settles a call: one more ledger transaction (hold -> advisor, licensee and Callrix,
the rest back to the wallet), the advisor freed, the room's closing queued.

- baseline: `ledger_post` with two legs (promo -> wallet, accounts in hand, fresh idempotency
  key), committed on its own: the bare cost of moving money once;
- billing: calls connected through the real path (`call_request`, `call_accept`, then both
  parties' `participant_joined` webhooks applied) up to K at a time, PASSES passes of
  `call_bill` over every connected call per K, the clock moved 10 s on before each so every
  tick extends its hold as in steady state; in the end every caller hangs up.

Every tick and every hang-up is followed by one bare posting, each timed on its own, so load
elsewhere on this shared machine hits both sides alike and the ratios hold; a pass's duration
is the sum of its ticks, and the lag of a call the sum up to its own. The calls of a smaller K
keep talking into the larger ones (only the newcomers are set up), so calls, events and the
ledger grow over the run as they would. Time is frozen and moved by hand (time-machine leaves
`perf_counter` alone). No job worker runs: the queued ticks, ring timeouts, pushes and room
closings stay in the run's Redis namespace, which the benchmarks' conftest empties. It all
commits, so it runs in a throwaway licensee whose schema is dropped afterwards.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import accumulate

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

CONCURRENT_CALLS = (50, 200, 400)  # K, connected one after another
PASSES = 3  # billing passes per K, 10 s of talk apart
TAIL_SECONDS = 5  # talk after the last pass, before everybody hangs up
CREDIT_MINOR = 5_000  # per caller; the longest call holds 3.5 min, €7.00 at the default rate
WARM_UP_POSTINGS = 50
BASELINE_WALLETS = 200
BASELINE_OWNERS = range(1_000_001, 1_000_001 + BASELINE_WALLETS)  # apart from real users
TICK = services.BILLING_TICK_SECONDS
LOOKAHEAD = services.HOLD_LOOKAHEAD_SECONDS


class Baseline:
    """Bare two-leg postings (promo -> one of the baseline wallets, round-robin)."""

    def __init__(self, promo: LedgerAccount, wallets: list[LedgerAccount]):
        self.promo, self.wallets = promo, wallets
        self.count = 0
        for _ in range(WARM_UP_POSTINGS):
            self.post()

    def post(self) -> float:
        """Seconds for one posting, committed on its own."""
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
        assert posting.created, key  # a replayed key would be a free no-op and flatter the rate
        return seconds


def _interleaved(work: Callable, items: list, baseline: Baseline):
    """`work(item)` for every item in turn, each followed by one bare posting: the results,
    and the seconds of each piece of work and of each posting."""
    gc.collect()
    results, spent, bare = [], [], []
    for item in items:
        start = time.perf_counter()
        results.append(work(item))
        spent.append(time.perf_counter() - start)
        bare.append(baseline.post())
    return results, spent, bare


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


def _tick(call_id: int) -> str:
    return services.call_bill(call_id=call_id)


def _hang_up(pair: tuple[int, User]) -> Call:
    call_id, caller = pair
    return services.call_hangup(user=caller, call_id=call_id)


def _check_holds(ids: list[int], now: datetime, passes_seen: Counter) -> None:
    """Every tick extended its call's hold to the lookahead beyond the talk so far."""
    for call in Call.objects.filter(pk__in=ids):
        talked = int((now - call.segment_started_at).total_seconds())
        assert call.held_minor == talk.cost_for(call, talked + LOOKAHEAD), call
        assert call.hold_extensions == passes_seen[call.pk], call


def _statements(work: Callable[[], object]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        work()
    return [query["sql"] for query in captured.captured_queries]


def _kinds(statements: list[str]) -> str:
    """`18 (8 SELECT, 2 UPDATE, …)`: a piece of work's round trips, by first word."""
    words = Counter(sql.split(None, 1)[0].upper() for sql in statements)
    return f"{len(statements)} ({', '.join(f'{n} {word}' for word, n in words.most_common())})"


def test_call_billing_speed(throwaway_licensee, livekit):
    licensee = throwaway_licensee("billing-bench", "Billing Bench")
    connection.set_tenant(licensee)
    policy = policy_get()
    traveller = time_machine.travel(timezone.now().replace(microsecond=0), tick=False)
    clock = traveller.start()
    try:
        promo = account_for(kind=AccountKind.PROMO)
        baseline_wallets = [
            account_for(kind=AccountKind.WALLET, owner_id=owner) for owner in BASELINE_OWNERS
        ]
        most = max(CONCURRENT_CALLS)
        advisors = [make_advisor(f"advisor{i}@bench.test") for i in range(most)]
        callers = [make_caller(f"caller{i}@bench.test", CREDIT_MINOR) for i in range(most)]
        pairs = list(zip(callers, advisors, strict=True))
        baseline = Baseline(promo, baseline_wallets)

        # K -> per pass: seconds of each tick and of the bare posting after it.
        passes: dict[int, list[tuple[list[float], list[float]]]] = {}
        ids: list[int] = []
        connected_at: dict[int, datetime] = {}
        passes_seen: Counter = Counter()
        for k in CONCURRENT_CALLS:
            now = timezone.now()
            newcomers = _connect(pairs[len(ids) : k], now)
            connected_at |= dict.fromkeys(newcomers, now)
            ids += newcomers
            for _ in range(PASSES):
                now += timedelta(seconds=TICK)
                clock.move_to(now)
                outcomes, ticks, bare = _interleaved(_tick, ids, baseline)
                assert Counter(outcomes) == {"billing": len(ids)}, Counter(outcomes)
                passes.setdefault(k, []).append((ticks, bare))
                passes_seen.update(ids)
            _check_holds(ids, now, passes_seen)

        ended_at = now + timedelta(seconds=TAIL_SECONDS)
        clock.move_to(ended_at)
        hang_ups = list(zip(ids, callers, strict=True))
        _ended, settling, settling_bare = _interleaved(_hang_up, hang_ups, baseline)

        # Every call ended and settled on exactly its talk, split to the minor unit; nothing
        # is left held, every wallet went down by its call's cost, every advisor got their
        # share, the baseline's postings all landed, and the ledger's invariants hold.
        calls = Call.objects.filter(pk__in=ids).select_related("advisor")
        owners = [user.pk for user in callers] + [advisor.user_id for advisor in advisors]
        balances = {
            (kind, owner): balance
            for kind, owner, balance in LedgerAccount.objects.filter(
                owner_id__in=owners,
                kind__in=[AccountKind.WALLET, AccountKind.HOLD, AccountKind.ADVISOR_EARNINGS],
            ).values_list("kind", "owner_id", "balance_minor")
        }
        for call in calls:
            assert (call.status, call.end_reason) == ("completed", "hangup_caller"), call
            talked = int((ended_at - connected_at[call.pk]).total_seconds())
            assert call.talk_seconds == talked, call
            assert call.cost_minor == talk.cost_for(call, talked) > 0, call
            parts = charges.split(
                amount_minor=call.cost_minor,
                advisor_share_bps=policy.advisor_share_bps,
                callrix_fee_bps=policy.callrix_fee_bps,
            )
            split = (call.advisor_minor, call.licensee_minor, call.callrix_minor)
            assert split == (parts.advisor_minor, parts.licensee_minor, parts.callrix_minor)
            assert sum(split) == call.cost_minor, call
            assert balances[AccountKind.HOLD, call.caller_id] == 0, call
            wallet = balances[AccountKind.WALLET, call.caller_id]
            assert wallet == CREDIT_MINOR - call.cost_minor, call
            earned = balances[AccountKind.ADVISOR_EARNINGS, call.advisor.user_id]
            assert earned == call.advisor_minor, call
        assert len(calls) == most
        assert Advisor.objects.filter(status="online").count() == most, "advisors freed"
        landed = LedgerAccount.objects.filter(pk__in=[w.pk for w in baseline_wallets])
        assert sum(landed.values_list("balance_minor", flat=True)) == baseline.count
        assert wallet_selectors.ledger_verify() == []

        # Round trips to PostgreSQL of a tick, a settlement and a bare posting, on one more
        # call (a debug cursor on the timed work would slow it).
        probe_at = timezone.now()
        [probe] = _connect(pairs[:1], probe_at)
        clock.move_to(probe_at + timedelta(seconds=TICK))
        tick_sql = _statements(lambda: _tick(probe))
        clock.move_to(probe_at + timedelta(seconds=TICK + TAIL_SECONDS))
        settle_sql = _statements(lambda: _hang_up((probe, callers[0])))
        posting_sql = _statements(baseline.post)
        probed = Call.objects.get(pk=probe)
        assert probed.cost_minor == talk.cost_for(probed, TICK + TAIL_SECONDS) > 0, probed
        assert wallet_selectors.ledger_verify() == []
    finally:
        traveller.stop()

    all_bare = [s for timings in passes.values() for _, bare in timings for s in bare]
    all_bare += settling_bare
    print(
        f"\nCall billing on one worker thread, in a throwaway licensee; {policy.billing_mode} "
        f"at {advisors[0].rate_minor_per_minute / 100:.2f}/min, a tick every {TICK} s extending "
        f"the hold to {LOOKAHEAD} s ahead of the talk. Baseline: bare ledger_post, 2 legs, "
        f"own transaction, one after every tick and hang-up ({len(all_bare)} in all): "
        f"{len(all_bare) / sum(all_bare):.0f} postings/s, {statistics.median(all_bare) * 1000:.2f}"
        f" ms median; each ratio is the work's seconds over its own postings' seconds."
    )
    print(
        f"  round trips: bare posting {_kinds(posting_sql)}; tick {_kinds(tick_sql)}; "
        f"settlement {_kinds(settle_sql)}; plus one Redis enqueue after a tick or a "
        f"settlement commits"
    )
    print(
        f"  {'K calls':>7}  {'pass = lag of last':>18}  {'mean lag':>8}  {'lag/tick':>8}  "
        f"{'ticks/s':>7}  {'ms/tick':>7}  {'on time up to':>14}  {'ms/posting':>10}  "
        f"{'tick/posting':>12}   (median of {PASSES} passes)"
    )
    rates = {}
    for k, timings in passes.items():
        seconds = statistics.median(sum(ticks) for ticks, _ in timings)
        mean_lag = statistics.median(statistics.fmean(accumulate(t)) for t, _ in timings)
        bare = [s for _, postings in timings for s in postings]
        ratio = statistics.median(sum(ticks) / sum(postings) for ticks, postings in timings)
        rates[k] = k / seconds
        print(
            f"  {k:>7}  {seconds:>16.2f} s  {mean_lag:>6.2f} s  {seconds / TICK:>8.2f}  "
            f"{k / seconds:>7.0f}  {seconds / k * 1000:>7.2f}  {k / seconds * TICK:>8.0f} calls  "
            f"{sum(bare) / len(bare) * 1000:>10.2f}  {ratio:>11.2f}x"
        )
    per_settle = sum(settling) / len(settling)
    print(
        f"  settlement: {len(settling)} hang-ups, {1 / per_settle:.0f}/s, "
        f"{per_settle * 1000:.2f} ms each; bare posting "
        f"{sum(settling_bare) / len(settling_bare) * 1000:.2f} ms: a settlement costs "
        f"{sum(settling) / sum(settling_bare):.2f} postings"
    )
    rate = rates[most]
    print(
        f"  lag: how long after its tick was due a call got billed; the last of a pass waits "
        f"the whole pass. At {rate:.0f} ticks/s (K={most}) one worker thread keeps "
        f"~{rate * TICK:.0f} calls billed every {TICK} s; beyond that each call's ticks come "
        f"further apart (every K / {rate:.0f} s, as the next tick is queued {TICK} s after the "
        f"last ran), and past ~{rate * LOOKAHEAD:.0f} calls talk would outrun the {LOOKAHEAD} s "
        f"hold between two ticks."
    )
