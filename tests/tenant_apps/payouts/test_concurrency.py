"""Two payout jobs at once on real connections: exactly one transfer, books balanced. These
commit, so they run in a throwaway licensee dropped afterwards."""

from __future__ import annotations

import threading
from collections import Counter

from django.db import connection, connections

from tenant_apps.payouts import services
from tenant_apps.payouts.models import Payout
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.payments.conftest import connect_to_sandbox
from tests.tenant_apps.payouts.conftest import (
    Licensee,
    earnings_balance,
    make_advisor,
    payouts_balance,
    sandbox_transfers,
    settle_call,
)


def _at_once(licensee, work, count: int) -> Counter:
    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            connection.set_tenant(licensee)
            start.wait()
            result = work(index)
        except Exception as error:  # any failure is an outcome the test shows
            result = f"error: {error!r}"
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


def test_payout_jobs_running_at_once_pay_each_advisor_once(throwaway_licensee, api, stripe):
    licensee = throwaway_licensee("payout-race", "Payout Race")
    creds = connect_to_sandbox(stripe, licensee)
    world = Licensee(licensee=licensee, api=api, stripe=stripe, creds=creds, slug="payout-race")
    world.enter()
    world.set_policy()
    advisors = [make_advisor(f"a{i}@example.test", display_name=f"A{i}") for i in range(3)]
    for advisor in advisors:
        settle_call(advisor, talk_seconds=600)  # €12.00 each
        world.onboard(advisor, world.token(advisor.user.email), over_http=False)
    world.fund(10_000)

    def run_job(index: int) -> str:
        report = services.payouts_run()
        return f"paid {report.paid}, failed {report.failed}, pending {report.pending}"

    outcomes = _at_once(licensee, run_job, 4)
    world.enter()
    assert sum(outcomes.values()) == 4 and not [o for o in outcomes if o.startswith("error")]
    transfers = sandbox_transfers(stripe, creds)
    assert sorted(t["destination"] for t in transfers) == sorted(
        a.payout_account.stripe_account_id for a in advisors
    )
    assert Payout.objects.filter(status="paid").count() == 3
    assert all(earnings_balance(a) == 0 for a in advisors)
    assert payouts_balance() == 3_600
    assert ledger_verify() == []


def test_an_advisor_request_racing_the_job_pays_the_money_once(throwaway_licensee, api, stripe):
    licensee = throwaway_licensee("payout-race-two", "Payout Race Two")
    creds = connect_to_sandbox(stripe, licensee)
    world = Licensee(licensee=licensee, api=api, stripe=stripe, creds=creds, slug="payout-race-two")
    world.enter()
    world.set_policy()
    advisor = make_advisor("solo@example.test")
    settle_call(advisor, talk_seconds=600)
    world.onboard(advisor, world.token("solo@example.test"), over_http=False)
    world.fund(10_000)

    def job_or_request(index: int) -> str:
        if index == 0:
            return f"job paid {services.payouts_run().paid}"
        try:
            return services.payout_request(advisor=advisor).status
        except Exception as error:
            return type(error).__name__

    outcomes = _at_once(licensee, job_or_request, 2)
    world.enter()
    assert len(sandbox_transfers(stripe, creds)) == 1, outcomes
    assert [t["amount"] for t in sandbox_transfers(stripe, creds)] == [1_200]
    assert earnings_balance(advisor) == 0 and payouts_balance() == 1_200
    assert ledger_verify() == []
