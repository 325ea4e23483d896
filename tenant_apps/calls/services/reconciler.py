"""The reconciler: every running call checked against LiveKit's room service. It ends what
should have ended (a ring nobody answered, a room that is gone), records who is really in the
room when webhooks were lost, and bills what runs.

LiveKit is asked once per run for all the rooms of the running calls (ListRooms with their
names, which tells how many are in each), and for a room's participants only where that count
disagrees with the presence we hold. When LiveKit cannot be asked (down, erroring, or its
circuit breaker open), calls keep their last known presence and go on being billed on it; only
after `LIVEKIT_OUTAGE_ALLOWANCE_SECONDS` without any confirmation does a call end, with its
own reason `provider_unreachable` — never as if a party had left."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tenant_apps.calls import livekit_gateway
from tenant_apps.calls.errors import LiveKitUnavailable
from tenant_apps.calls.models import Call, LiveKitEvent
from tenant_apps.calls.services.lifecycle import (
    call_bill_until,
    call_close_unanswered,
    call_end,
    ring_expired,
)
from tenant_apps.calls.services.rooms import identity_of, presence_replay, room_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoomsSeen:
    """What LiveKit said this run about the rooms of the calls connected when it was asked."""

    asked: frozenset[str]
    open: dict[str, int]  # of those, each room LiveKit listed -> how many are in it
    asked_at: datetime


def _room_may_be_opening(call: Call, rooms: RoomsSeen) -> bool:
    """The call request opens its room once it has committed (CreateRoom, which answers
    within LiveKit's timeout or fails the request), and the advisor can accept in between:
    a room missing that soon after the request is not yet a room gone."""
    opening = timedelta(seconds=settings.LIVEKIT_TIMEOUT_SECONDS + 1)
    return rooms.asked_at - call.created_at < opening


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


def _last_confirmed(call: Call, room: str) -> datetime | None:
    """The last moment LiveKit told us anything about this call (webhook or room service)."""
    latest_event = LiveKitEvent.objects.filter(room_name=room).aggregate(at=Max("occurred_at"))
    moments = [m for m in (call.last_seen_both_at, call.accepted_at, latest_event["at"]) if m]
    return max(moments) if moments else None


def _unreachable(call: Call, room: str, now: datetime) -> str:
    """LiveKit cannot be asked: keep the presence we hold and bill on it, within the
    allowance; past it, end the call for that reason (billed up to now)."""
    allowance = timedelta(seconds=settings.LIVEKIT_OUTAGE_ALLOWANCE_SECONDS)
    confirmed = _last_confirmed(call, room)
    if confirmed is not None and now - confirmed > allowance:
        call_end(call, now, "provider_unreachable")
        return "ended: provider unreachable"
    outcome = call_bill_until(call, now)
    return "unconfirmed" if outcome == "billing" else outcome


def _reconcile_one(call: Call, now: datetime, rooms: RoomsSeen | None) -> str:
    if call.status == Call.Status.RINGING:
        if ring_expired(call, now):
            call_close_unanswered(call, Call.Status.MISSED, "ring_timeout")
            return "missed"
        return "ringing"
    room = room_of(call)
    if rooms is None:
        return _unreachable(call, room, now)
    if room not in rooms.asked:
        # Accepted after LiveKit was asked this run: nothing is known of its room yet (the
        # next run asks); it is billed on the presence held.
        return call_bill_until(call, now)
    if room not in rooms.open:
        if _room_may_be_opening(call, rooms):
            return call_bill_until(call, now)
        # The room is gone and its webhooks never came.
        end_at = call.last_seen_both_at or call.segment_started_at or now
        call_end(call, min(end_at, now), "room_gone")
        return "ended: room gone"
    held = (call.caller_present, call.advisor_present)
    if rooms.open[room] == sum(held):
        caller_in, advisor_in = held  # LiveKit's count agrees: no need to ask who
    else:
        try:
            present = livekit_gateway.participants_in(name=room)
        except LiveKitUnavailable as error:
            logger.warning("reconciler could not ask LiveKit about %s: %s", room, error.detail)
            return _unreachable(call, room, now)
        caller_in = identity_of(call.caller_id) in present
        advisor_in = identity_of(call.advisor.user_id) in present
    if caller_in and advisor_in:
        call.last_seen_both_at = now
    if (caller_in, advisor_in) != held:
        # Webhooks were lost: take LiveKit's word for who is in the room now.
        for party, inside in (("caller", caller_in), ("advisor", advisor_in)):
            if getattr(call, f"{party}_present") != inside:
                _observe(call, room, party, inside, now)
        presence_replay(call)
    return call_bill_until(call, now)


def _rooms_now(call_ids: list[int]) -> RoomsSeen | None:
    names = [
        name
        for name in Call.objects.filter(pk__in=call_ids, status=Call.Status.CONNECTED)
        .exclude(room_name=None)
        .values_list("room_name", flat=True)
        if name
    ]
    asked_at = timezone.now()
    try:
        listed = livekit_gateway.rooms_open(names=names)
    except LiveKitUnavailable as error:
        logger.warning("reconciler could not ask LiveKit about %d rooms: %s", len(names), error)
        return None
    return RoomsSeen(asked=frozenset(names), open=listed, asked_at=asked_at)


def calls_reconcile() -> dict[str, int]:
    """End what should have ended and bill what runs. Safe to run twice at once: each call
    is taken with SKIP LOCKED, and every money movement is idempotent."""
    outcomes: dict[str, int] = {}
    ids = list(
        Call.objects.filter(status__in=["ringing", "connected"]).values_list("pk", flat=True)
    )
    rooms = _rooms_now(ids)  # asked outside any transaction: no lock waits on LiveKit
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
            outcome = _reconcile_one(call, timezone.now(), rooms).split(":")[0]
            call.save()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
