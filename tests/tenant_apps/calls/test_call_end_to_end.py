"""A call with nothing stood in for: HTTP webhooks from the LiveKit sandbox to a running
Callrix, jobs run by a real dramatiq worker, pushes through firebase-admin to the FCM
sandbox. These commit, so they run in throwaway licensees."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import dramatiq
import pytest
from django.db import connection, connections
from dramatiq import Worker

from tenant_apps.calls import services
from tenant_apps.calls.errors import AdvisorUnavailable
from tenant_apps.calls.models import Call
from tenant_apps.notifications.models import Device
from tenant_apps.wallets.selectors import ledger_verify, wallet_balance_get
from tests.factories import worker_stop
from tests.tenant_apps.calls.conftest import make_advisor, make_caller


def _wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def worker():
    broker = dramatiq.get_broker()
    # Jobs left queued by earlier tests (their transactions rolled back) would only make
    # this worker busy before it reaches ours.
    broker.flush_all()
    running = Worker(broker, worker_threads=2, worker_timeout=100)
    running.start()
    yield broker
    worker_stop(running)


def test_a_call_end_to_end_over_http_with_a_real_worker(
    throwaway_licensee, livekit, fcm, callrix_server, worker
):
    licensee = throwaway_licensee("call-e2e", "Call E2E")
    livekit.webhook_url = f"{callrix_server.url}/webhooks/livekit"
    livekit.webhook_host = "localhost"  # LiveKit's webhooks go to the public host
    connection.set_tenant(licensee)
    advisor = make_advisor("luna@example.test")
    caller = make_caller("casey@example.test")
    Device.objects.create(user=advisor.user, token="advisor-phone", platform="android")

    call = services.call_request(caller=caller, advisor_id=advisor.pk)
    assert _wait_for(lambda: fcm.messages(token="advisor-phone")), "the advisor's phone rings"
    ring = fcm.messages(token="advisor-phone")[0]["message"]
    assert ring["data"]["kind"] == "incoming_call" and ring["android"]["priority"] == "high"

    connection.set_tenant(licensee)
    services.call_accept(user=advisor.user, call_id=call.pk)
    livekit.join(call.room_name, services.identity_of(caller.pk))
    livekit.join(call.room_name, services.identity_of(advisor.user_id))
    assert livekit.wait_for_deliveries(timeout=60)

    def talking():
        connection.set_tenant(licensee)
        return Call.objects.get(pk=call.pk).segment_started_at is not None

    assert _wait_for(talking)
    time.sleep(2.2)
    connection.set_tenant(licensee)
    services.call_hangup(user=caller, call_id=call.pk)
    assert _wait_for(lambda: livekit.participants(call.room_name) is None), "the room is closed"

    connection.set_tenant(licensee)
    ended = Call.objects.get(pk=call.pk)
    assert ended.status == "completed" and 2 <= ended.talk_seconds <= 4
    balance = wallet_balance_get(user_id=caller.pk)
    assert balance.held_minor == 0 and balance.available_minor == 2_000 - ended.cost_minor
    assert ledger_verify() == []


def test_two_simultaneous_requests_to_one_advisor_one_wins(throwaway_licensee, livekit):
    licensee = throwaway_licensee("call-race", "Call Race")
    connection.set_tenant(licensee)
    advisor = make_advisor("luna@example.test")
    callers = [make_caller(f"c{i}@example.test") for i in range(2)]
    results: list[str] = []
    start = threading.Barrier(2)

    def request(caller):
        try:
            connection.set_tenant(licensee)
            start.wait()
            services.call_request(caller=caller, advisor_id=advisor.pk)
            results.append("won")
        except AdvisorUnavailable:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request, args=(c,)) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    connection.set_tenant(licensee)
    assert sorted(results) == ["refused", "won"]
    assert Call.objects.filter(status="ringing").count() == 1
    held = [wallet_balance_get(user_id=c.pk).held_minor for c in callers]
    assert sorted(held) == [0, 400]
    assert ledger_verify() == []


def test_the_caller_gets_an_in_call_event_when_credit_runs_low(throwaway_licensee, livekit, worker):
    import time_machine
    from django.utils import timezone

    licensee = throwaway_licensee("call-low", "Call Low")
    connection.set_tenant(licensee)
    advisor = make_advisor("luna@example.test")
    caller = make_caller("casey@example.test", credit_minor=450)  # 2 min 15 s at €2.00
    call = services.call_request(caller=caller, advisor_id=advisor.pk)
    services.call_accept(user=advisor.user, call_id=call.pk)
    start = timezone.now()
    for identity in (services.identity_of(caller.pk), services.identity_of(advisor.user_id)):
        services.livekit_event_apply(
            event={
                "id": f"EV_{identity}",
                "event": "participant_joined",
                "room_name": call.room_name,
                "participant_identity": identity,
                "created_at": int(start.timestamp()),
            }
        )
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        services.call_bill(call_id=call.pk)
    assert _wait_for(lambda: livekit.data_packets(call.room_name))
    packet = livekit.data_packets(call.room_name)[0]
    assert packet["destination_identities"] == [services.identity_of(caller.pk)]
    assert '"low_funds"' in packet["data"] and packet["topic"] == "call-events"
