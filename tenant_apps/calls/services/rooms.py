"""A call's LiveKit room: its name, the identities its parties join with, and who was in it.

Presence is always rebuilt from every recorded event of the room, in the order the events
happened, whether LiveKit's webhook or the reconciler recorded it: a webhook that comes late
still lands in its place.
"""

from __future__ import annotations

from kernel.tenant_connection import connection
from tenant_apps.calls import talk
from tenant_apps.calls.errors import CallStateConflict
from tenant_apps.calls.models import Call, LiveKitEvent


def identity_of(user_id: int) -> str:
    """A user's identity in LiveKit rooms (no personal data)."""
    return f"u{user_id}"


def room_name_for(call: Call) -> str:
    return f"{connection.schema_name}-{call.pk}"


def room_of(call: Call) -> str:
    """The call's room. `call_request` names it in the transaction that creates the call, so
    every committed call has one; the column is nullable only for the moment in between.
    A call without one is refused rather than sent to LiveKit as a room named None."""
    if call.room_name is None:
        raise CallStateConflict("This call has no room.", field="call_id")
    return call.room_name


def party_of(call: Call, identity: str) -> str | None:
    if identity == identity_of(call.caller_id):
        return "caller"
    if identity == identity_of(call.advisor.user_id):
        return "advisor"
    return None


def presence_replay(call: Call) -> None:
    """Recompute presence and talk from every presence event of the call's room.

    LiveKit stamps events in whole seconds and its webhooks may arrive in any order, so
    within one second a person's `participant_left` is applied before their
    `participant_joined` whatever order they came in: someone who dropped and rejoined in that
    second is present (the latest state wins); the reconciler corrects the rare opposite
    from the room service."""
    changes = []
    for record in LiveKitEvent.objects.filter(
        room_name=call.room_name, event__in=["participant_joined", "participant_left"]
    ).order_by("occurred_at", "-event", "id"):
        party = party_of(call, record.participant_identity)
        if party:
            changes.append((record.occurred_at, party, record.event == "participant_joined"))
    talk.replay(call, changes)
