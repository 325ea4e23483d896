"""LiveKit's webhooks, applied in the licensee's schema once each by their id. They are hints
that move presence along; our own state, checked against LiveKit's room service by the
reconciler, is the truth."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenant_apps.calls.livekit_gateway import LiveKitWebhook
from tenant_apps.calls.models import Call, LiveKitEvent
from tenant_apps.calls.services.lifecycle import billing_schedule, call_end
from tenant_apps.calls.services.rooms import party_of, presence_replay


def _moment(event: LiveKitWebhook) -> datetime:
    seconds = int(event.get("created_at") or 0)
    if seconds <= 0:
        return timezone.now()
    return datetime.fromtimestamp(seconds, tz=UTC)


def livekit_event_apply(*, event: LiveKitWebhook) -> str:
    """Apply one verified LiveKit webhook (in the licensee's schema), once by its id."""
    room_name = event["room_name"]
    if room_name is None:  # never routed here: the webhook's licensee comes from its room
        return "ignored: no room"
    with transaction.atomic():
        moment = _moment(event)
        try:
            with transaction.atomic():
                record = LiveKitEvent.objects.create(
                    event_id=event["id"],
                    event=event["event"],
                    room_name=room_name,
                    participant_identity=event.get("participant_identity") or "",
                    occurred_at=moment,
                )
        except IntegrityError:
            return "duplicate"
        call = (
            Call.objects.select_for_update()
            .select_related("advisor")
            .filter(room_name=room_name)
            .first()
        )
        if call is None:
            outcome = "ignored: no such call"
        elif call.status not in (Call.Status.RINGING, Call.Status.CONNECTED):
            outcome = f"ignored: call {call.status}"
        elif event["event"] in ("participant_joined", "participant_left"):
            party = party_of(call, record.participant_identity)
            if party is None:
                outcome = "ignored: not a party of this call"
            else:
                presence_replay(call)
                billing_schedule(call, timezone.now())
                call.save()
                outcome = f"{party} {event['event'].removeprefix('participant_')}"
        elif event["event"] == "room_finished" and call.status == Call.Status.CONNECTED:
            call_end(call, moment, "room_finished")
            outcome = "ended"
        else:
            outcome = "ignored"
        record.outcome = outcome[:120]
        record.save(update_fields=["outcome"])
    return outcome
