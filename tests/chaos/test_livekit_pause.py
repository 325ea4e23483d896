"""The LiveKit stand-in paused (SIGSTOP) during a connected call, then resumed: the call is
billed for its whole talk and never ended by the outage; paused past the allowance (scaled
down to seconds here), it ends as `provider_unreachable`, never `party_left`."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connection

from tenant_apps.calls import livekit_gateway, services
from tenant_apps.calls.models import Call
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

pytestmark = pytest.mark.django_db


def _connected_call(alpha) -> Call:
    connection.set_tenant(alpha)
    advisor = make_advisor("luna@chaos.test")
    caller = make_caller("casey@chaos.test", credit_minor=5_000)
    call = services.call_request(caller=caller, advisor_id=advisor.pk)
    services.call_accept(user=advisor.user, call_id=call.pk)
    for user in (caller, advisor.user):  # both clients join the room at LiveKit
        token = livekit_gateway.access_token_issue(
            room=call.room_name, identity=services.identity_of(user.pk), display_name="x"
        )
        livekit_gateway.sandbox_connect(token=token)
    assert services.calls_reconcile() == {"billing": 1}  # LiveKit says both are in
    call = Call.objects.get(pk=call.pk)
    assert call.segment_started_at is not None
    return call


def _reconcile_for(seconds: float) -> list[dict[str, int]]:
    outcomes = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        outcomes.append(services.calls_reconcile())
        time.sleep(0.5)
    return outcomes


def test_a_paused_livekit_neither_ends_nor_shortens_the_call(alpha, livekit_process, settings):
    settings.LIVEKIT_OUTAGE_ALLOWANCE_SECONDS = 30
    call = _connected_call(alpha)
    os.kill(livekit_process.pid, signal.SIGSTOP)
    outcomes = _reconcile_for(4)
    os.kill(livekit_process.pid, signal.SIGCONT)
    assert {"unconfirmed": 1} in outcomes and all("ended" not in o for o in outcomes)
    assert Call.objects.get(pk=call.pk).status == "connected"
    time.sleep(1.1)  # the breaker's cooldown: the next call is its trial
    assert _reconcile_for(1)[-1] == {"billing": 1}
    hung_up = services.call_hangup(user=call.caller, call_id=call.pk)
    talked = (hung_up.ended_at - call.segment_started_at).total_seconds()
    assert hung_up.end_reason == "hangup_caller"
    assert abs(hung_up.talk_seconds - talked) <= 1  # its whole talk, within a second
    assert ledger_verify() == []


def test_paused_past_the_allowance_the_call_ends_as_provider_unreachable(
    alpha, livekit_process, settings
):
    settings.LIVEKIT_OUTAGE_ALLOWANCE_SECONDS = 3
    call = _connected_call(alpha)
    os.kill(livekit_process.pid, signal.SIGSTOP)
    outcomes = _reconcile_for(5)
    os.kill(livekit_process.pid, signal.SIGCONT)
    assert {"ended": 1} in outcomes
    ended = Call.objects.get(pk=call.pk)
    assert (ended.status, ended.end_reason) == ("completed", "provider_unreachable")
    assert ended.talk_seconds >= 3
    assert ledger_verify() == []
