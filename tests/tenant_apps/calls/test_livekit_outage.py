"""LiveKit down or erroring: calls keep their last known presence and go on being billed on
it; a bounded allowance later a call ends as `provider_unreachable`, never as if a party had
left; a circuit breaker stops asking; the reconciler asks for all rooms at once."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tenant_apps.calls import livekit_gateway, services
from tenant_apps.calls.errors import LiveKitUnavailable
from tenant_apps.calls.models import Call
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

pytestmark = pytest.mark.django_db


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{sock.getsockname()[1]}"


def _connected(world) -> Call:
    call_id = world.request_call()["id"]
    world.post(f"/api/v1/calls/{call_id}/accept", world.advisor_token)
    call = Call.objects.select_related("advisor").get(pk=call_id)
    world.both_join(call.room_name)
    return call


def test_an_outage_shorter_than_the_allowance_neither_ends_nor_shortens_the_call(
    world, clock, settings
):
    settings.LIVEKIT_BREAKER_COOLDOWN_SECONDS = 0  # the clock here is frozen
    call = _connected(world)
    assert services.calls_reconcile() == {"billing": 1}
    reachable = settings.LIVEKIT_URL
    settings.LIVEKIT_URL = _closed_port_url()
    for _ in range(6):  # 90 s without LiveKit, the reconciler every 15 s
        clock.advance(15)
        assert services.calls_reconcile() == {"unconfirmed": 1}
        assert services.call_bill(call_id=call.pk) == "billing"
    during = Call.objects.get(pk=call.pk)
    assert during.status == "connected" and during.caller_present and during.advisor_present
    assert during.held_minor >= 400  # the hold kept growing ahead of the talk
    settings.LIVEKIT_URL = reachable
    clock.advance(10)
    assert services.calls_reconcile() == {"billing": 1}
    ended = world.post(f"/api/v1/calls/{call.pk}/hangup", world.caller_token).json()
    assert (ended["status"], ended["talk_seconds"]) == ("completed", 100)
    assert Call.objects.get(pk=call.pk).end_reason == "hangup_caller"
    assert ledger_verify() == []


def test_past_the_allowance_the_call_ends_as_provider_unreachable(world, clock, settings):
    settings.LIVEKIT_OUTAGE_ALLOWANCE_SECONDS = 60
    call = _connected(world)
    assert services.calls_reconcile() == {"billing": 1}
    settings.LIVEKIT_URL = _closed_port_url()
    outcomes = []
    for _ in range(5):
        clock.advance(15)
        outcomes.append(services.calls_reconcile())
    assert outcomes[:4] == [{"unconfirmed": 1}] * 4
    assert outcomes[4] == {"ended": 1}
    ended = Call.objects.get(pk=call.pk)
    assert (ended.status, ended.end_reason) == ("completed", "provider_unreachable")
    assert ended.talk_seconds == 75  # billed on the last known presence, up to the end
    assert ledger_verify() == []


def test_the_reconciler_asks_for_all_rooms_at_once(world, clock, livekit):
    calls = [_connected(world)]
    for index in range(2):
        advisor = make_advisor(f"advisor{index}@example.test")
        caller = make_caller(f"caller{index}@example.test")
        call = services.call_request(caller=caller, advisor_id=advisor.pk)
        services.call_accept(user=advisor.user, call_id=call.pk)
        for user_id in (caller.pk, advisor.user_id):
            livekit.join(call.room_name, services.identity_of(user_id))
            world.deliver(call.room_name)
        calls.append(call)
    livekit.api_calls.clear()
    clock.advance(15)
    assert services.calls_reconcile() == {"billing": 3}
    assert livekit.api_calls == ["ListRooms"]  # counts agree: nobody's list is asked for
    livekit.drop_webhooks = True
    livekit.leave(calls[1].room_name, services.identity_of(calls[1].caller_id))
    livekit.api_calls.clear()
    clock.advance(15)
    services.calls_reconcile()
    assert livekit.api_calls == ["ListRooms", "ListParticipants"]  # only the room that differs
    assert not Call.objects.get(pk=calls[1].pk).caller_present


class _Blackhole:
    """A server that accepts connections and never answers (a paused LiveKit)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"ws://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


def test_the_circuit_breaker_stops_waiting_on_a_paused_livekit(livekit, settings):
    hole = _Blackhole()
    settings.LIVEKIT_URL = hole.url
    settings.LIVEKIT_TIMEOUT_SECONDS = 0.3
    settings.LIVEKIT_BREAKER_FAILURES = 2
    settings.LIVEKIT_BREAKER_COOLDOWN_SECONDS = 60
    try:
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(LiveKitUnavailable):
                livekit_gateway.rooms_open(names=["alpha-1"])
            assert time.monotonic() - started >= 0.25  # waited for the timeout
        assert livekit_gateway.breaker.is_open
        started = time.monotonic()
        with pytest.raises(LiveKitUnavailable, match="not answering"):
            livekit_gateway.rooms_open(names=["alpha-1"])
        assert time.monotonic() - started < 0.1  # not asked at all
    finally:
        hole.close()


def test_after_the_cooldown_one_trial_closes_the_breaker_again(livekit, settings):
    reachable = settings.LIVEKIT_URL
    settings.LIVEKIT_URL = _closed_port_url()
    settings.LIVEKIT_BREAKER_FAILURES = 1
    settings.LIVEKIT_BREAKER_COOLDOWN_SECONDS = 0.2
    with pytest.raises(LiveKitUnavailable, match="could not be reached"):
        livekit_gateway.rooms_open(names=["alpha-1"])
    assert livekit_gateway.breaker.is_open
    settings.LIVEKIT_URL = reachable
    with pytest.raises(LiveKitUnavailable, match="not answering"):
        livekit_gateway.rooms_open(names=["alpha-1"])
    time.sleep(0.25)
    assert livekit_gateway.rooms_open(names=["alpha-1"]) == {}
    assert not livekit_gateway.breaker.is_open


def test_one_client_serves_calls_from_many_threads(livekit):
    livekit_gateway.room_create(name="alpha-9")
    livekit.join("alpha-9", "u1")
    answers: list[dict[str, int]] = []

    def ask() -> None:
        answers.append(livekit_gateway.rooms_open(names=["alpha-9"]))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert answers == [{"alpha-9": 1}] * 8
