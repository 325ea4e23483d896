"""LiveKit stamps its webhooks in whole seconds and delivers them in any order: a person's
leave and rejoin in one second are applied by meaning (present wins), not by arrival."""

from __future__ import annotations

import pytest

from tenant_apps.calls import services
from tenant_apps.calls.models import Call

pytestmark = pytest.mark.django_db


def _event(call: Call, kind: str, identity: str, at: int, event_id: str) -> str:
    return services.livekit_event_apply(
        event={
            "id": event_id,
            "event": kind,
            "room_name": call.room_name,
            "participant_identity": identity,
            "created_at": at,
            "num_dropped": 0,
        }
    )


@pytest.mark.parametrize("joined_first", [True, False])
def test_a_leave_and_rejoin_in_one_second_leave_the_person_present(world, clock, joined_first):
    call_id = world.request_call()["id"]
    world.post(f"/api/v1/calls/{call_id}/accept", world.advisor_token)
    call = Call.objects.select_related("advisor").get(pk=call_id)
    start = int(clock.now.timestamp())
    caller = services.identity_of(world.caller.pk)
    advisor = services.identity_of(world.advisor.user_id)
    _event(call, "participant_joined", caller, start, "EV_c1")
    _event(call, "participant_joined", advisor, start, "EV_a1")
    clock.advance(30)
    moment = start + 30
    second = [
        ("participant_joined", caller, moment, "EV_c3"),
        ("participant_left", caller, moment, "EV_c2"),
    ]
    for kind, identity, at, event_id in second if joined_first else reversed(second):
        _event(call, kind, identity, at, event_id)
    call.refresh_from_db()
    assert call.caller_present and call.advisor_present
    assert call.segment_started_at is not None and call.absent_since is None
    clock.advance(30)
    ended = world.post(f"/api/v1/calls/{call_id}/hangup", world.caller_token).json()
    assert ended["talk_seconds"] == 60


def test_a_leave_in_a_later_second_still_counts(world, clock):
    call_id = world.request_call()["id"]
    world.post(f"/api/v1/calls/{call_id}/accept", world.advisor_token)
    call = Call.objects.select_related("advisor").get(pk=call_id)
    start = int(clock.now.timestamp())
    caller = services.identity_of(world.caller.pk)
    _event(call, "participant_joined", caller, start, "EV_c1")
    _event(call, "participant_joined", services.identity_of(world.advisor.user_id), start, "EV_a")
    _event(call, "participant_left", caller, start + 5, "EV_c2")  # delivered before the join
    _event(call, "participant_joined", caller, start + 4, "EV_c0")
    call.refresh_from_db()
    assert not call.caller_present and call.absent_since is not None
