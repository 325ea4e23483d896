"""The reconciler: every running call checked against LiveKit's room service. It ends what
should have ended (a ring nobody answered, a room that is gone), records who is really in the
room when webhooks were lost, and bills what runs."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tenant_apps.calls import livekit_gateway
from tenant_apps.calls.models import Call, LiveKitEvent
from tenant_apps.calls.services.lifecycle import (
    call_bill_until,
    call_close_unanswered,
    call_end,
    ring_expired,
)
from tenant_apps.calls.services.rooms import identity_of, presence_replay, room_of

logger = logging.getLogger(__name__)


def _observe(call: Call, room: str, party: str, present: bool, moment: datetime) -> None:
    """Record what the reconciler saw in the room, as if LiveKit had told us."""
    identity = identity_of(call.caller_id if party == "caller" else call.advisor.user_id)
    LiveKitEvent.objects.create(
        event_id=f"reconciler-{call.pk}-{party}-{moment.timestamp():.0f}-{int(present)}",
        event="participant_joined" if present else "participant_left",
        room_name=room,
        participant_identity=identity,
        source="reconciler",
        occurred_at=moment,
    )


def _reconcile_one(call: Call, now: datetime) -> str:
    if call.status == Call.Status.RINGING:
        if ring_expired(call, now):
            call_close_unanswered(call, Call.Status.MISSED, "ring_timeout")
            return "missed"
        return "ringing"
    room = room_of(call)
    try:
        present = livekit_gateway.room_participants(name=room)
    except Exception as error:  # LiveKit unreachable: bill on what we know, check next time
        logger.warning("reconciler could not ask LiveKit about %s: %s", room, error)
        present = []
    if present is None:  # the room is gone and its webhooks never came
        end_at = call.last_seen_both_at or call.segment_started_at or now
        call_end(call, min(end_at, now), "room_gone")
        return "ended: room gone"
    caller_in = identity_of(call.caller_id) in present
    advisor_in = identity_of(call.advisor.user_id) in present
    if caller_in and advisor_in:
        call.last_seen_both_at = now
    if (caller_in, advisor_in) != (call.caller_present, call.advisor_present):
        # Webhooks were lost: take LiveKit's word for who is in the room now.
        for party, inside in (("caller", caller_in), ("advisor", advisor_in)):
            if getattr(call, f"{party}_present") != inside:
                _observe(call, room, party, inside, now)
        presence_replay(call)
    return call_bill_until(call, now)


def calls_reconcile() -> dict[str, int]:
    """End what should have ended and bill what runs. Safe to run twice at once: each call
    is taken with SKIP LOCKED, and every money movement is idempotent."""
    outcomes: dict[str, int] = {}
    ids = list(
        Call.objects.filter(status__in=["ringing", "connected"]).values_list("pk", flat=True)
    )
    for call_id in ids:
        with transaction.atomic():
            call = (
                Call.objects.select_for_update(skip_locked=True)
                .select_related("advisor")
                .filter(pk=call_id, status__in=["ringing", "connected"])
                .first()
            )
            if call is None:
                continue
            outcome = _reconcile_one(call, timezone.now()).split(":")[0]
            call.save()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
