"""Due-time billing with a real dramatiq worker: the call's own delayed jobs refill, warn and end
it on time (docs/decisions/0009-due-time-billing.md). These commit, so they run in a throwaway
licensee."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenant_apps.calls import services
from tenant_apps.calls.models import Call
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.calls.conftest import make_caller


@pytest.fixture
def worker():
    import dramatiq
    from dramatiq import Worker

    from tests.factories import worker_stop

    broker = dramatiq.get_broker()
    broker.flush_all()  # earlier tests' leftovers would only delay ours
    # The worker's idle poll, as `callrix worker` sets it: a delayed job waits at most this.
    running = Worker(broker, worker_threads=2, worker_timeout=100)
    running.start()
    yield broker
    worker_stop(running)


def test_a_real_worker_ends_the_call_within_a_second_of_its_credit(
    throwaway_licensee, livekit, worker
):
    """No tick and no test hand: the jobs the call queued for itself refill, warn and end it,
    each at its moment, on a clock jumped to just before the credit runs out."""
    import time

    import time_machine
    from django.db import connection
    from django.utils import timezone

    from tests.tenant_apps.calls.conftest import make_advisor

    licensee = throwaway_licensee("call-due", "Call Due")
    connection.set_tenant(licensee)
    advisor = make_advisor("luna@example.test")
    caller = make_caller("casey@example.test", credit_minor=400)  # the minimum: 120 s
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=True) as clock:
        call = services.call_request(caller=caller, advisor_id=advisor.pk)
        services.call_accept(user=advisor.user, call_id=call.pk)
        start = timezone.now().replace(microsecond=0)
        for user_id in (caller.pk, advisor.user_id):
            services.livekit_event_apply(
                event={
                    "id": f"EV_due_{user_id}",
                    "event": "participant_joined",
                    "room_name": call.room_name,
                    "participant_identity": services.identity_of(user_id),
                    "created_at": int(start.timestamp()),
                }
            )
        # Talk runs from the later of the joins and the acceptance.
        runs_out = Call.objects.get(pk=call.pk).segment_started_at + timedelta(seconds=120)
        clock.move_to(runs_out - timedelta(seconds=2))
        deadline = time.monotonic() + 20
        while Call.objects.get(pk=call.pk).status != "completed" and time.monotonic() < deadline:
            time.sleep(0.05)
    ended = Call.objects.get(pk=call.pk)
    assert (ended.status, ended.end_reason, ended.talk_seconds) == (
        "completed",
        "funds_exhausted",
        120,
    )
    assert ended.low_funds_warned_at is not None  # the warning job ran on the way
    assert timedelta(0) <= ended.ended_at - runs_out <= timedelta(seconds=1)
    assert ended.cost_minor == 400 and ledger_verify() == []


def _delayed(broker, queue: str) -> list[tuple[str, list]]:
    """The delayed jobs waiting in Redis on one queue: (actor, args)."""
    import json

    stored = broker.client.hvals(f"{broker.namespace}:{queue}.DQ.msgs")
    return sorted((m["actor_name"], m["args"]) for m in map(json.loads, stored))


def test_the_job_that_ends_a_call_waits_on_its_own_queue_not_behind_refills(
    throwaway_licensee, livekit
):
    """A call's ending (here the no-show wait, then the end of credit) is queued on
    `calls_end` for `call_bill_end`, which workers run before the refills of `calls`; the
    refill in between goes on `calls`."""
    import dramatiq
    import time_machine
    from django.db import connection
    from django.utils import timezone

    from tenant_apps.calls import tasks
    from tests.tenant_apps.calls.conftest import make_advisor

    broker = dramatiq.get_broker()
    broker.flush_all()
    assert tasks.call_bill_end.priority < tasks.call_bill.priority
    licensee = throwaway_licensee("call-queues", "Call Queues")
    connection.set_tenant(licensee)
    advisor = make_advisor("luna@example.test")
    caller = make_caller("casey@example.test", credit_minor=400)  # 120 s, no refill possible
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as clock:
        call = services.call_request(caller=caller, advisor_id=advisor.pk)
        services.call_accept(user=advisor.user, call_id=call.pk)
        nobody_yet = Call.objects.get(pk=call.pk).billing_due_at.isoformat()
        assert _delayed(broker, "calls_end") == [("call_bill_end", [call.pk, nobody_yet])]
        assert ("call_bill", [call.pk, nobody_yet]) not in _delayed(broker, "calls")
        start = timezone.now()
        for user_id in (caller.pk, advisor.user_id):
            services.livekit_event_apply(
                event={
                    "id": f"EV_queues_{user_id}",
                    "event": "participant_joined",
                    "room_name": call.room_name,
                    "participant_identity": services.identity_of(user_id),
                    "created_at": int(start.timestamp()),
                }
            )
        refill = Call.objects.get(pk=call.pk).billing_due_at
        assert refill == start + timedelta(seconds=120 - 60 - 30)  # warning and margin ahead
        assert ("call_bill", [call.pk, refill.isoformat()]) in _delayed(broker, "calls")
        # The refill finds the wallet empty: next is the warning (on `calls`), then the end.
        clock.move_to(refill)
        assert services.call_bill(call_id=call.pk, due=refill) == "billing"
        warning = Call.objects.get(pk=call.pk).billing_due_at
        assert warning == start + timedelta(seconds=120 - 60)
        assert ("call_bill", [call.pk, warning.isoformat()]) in _delayed(broker, "calls")
        clock.move_to(warning)
        assert services.call_bill(call_id=call.pk, due=warning) == "billing"
        end = Call.objects.get(pk=call.pk).billing_due_at
        assert end == start + timedelta(seconds=120)
        assert ("call_bill_end", [call.pk, end.isoformat()]) in _delayed(broker, "calls_end")
    broker.flush_all()
