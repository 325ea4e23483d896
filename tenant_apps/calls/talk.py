"""Talk time from presence events: pure functions over a Call, kept apart from the services
so the rules are easy to read and to test."""

from __future__ import annotations

from datetime import datetime

from tenant_apps.calls.models import Call
from tenant_apps.pricing import charges


def talk_seconds_at(call: Call, moment: datetime) -> int:
    """Whole seconds both parties have been in the room, up to `moment`."""
    running = 0
    if call.segment_started_at is not None and moment > call.segment_started_at:
        running = int((moment - call.segment_started_at).total_seconds())
    return call.talk_seconds_closed + running


def replay(call: Call, presence: list[tuple[datetime, str, bool]]) -> None:
    """Rebuild who is in the room and the talk so far from presence changes
    (moment, "caller"|"advisor", present), applied in the order they happened. Talk counts
    only after the advisor accepted; a drop starts the grace period."""
    call.caller_present = call.advisor_present = False
    call.talk_seconds_closed = 0
    call.segment_started_at = call.talk_started_at = call.absent_since = None
    accepted = call.accepted_at
    for moment, party, present in sorted(presence, key=lambda change: change[0]):
        setattr(call, f"{party}_present", present)
        setattr(call, f"{party}_seen_at", moment)
        if present:
            if accepted is not None:
                open_segment_if_both(call, max(moment, accepted))
        else:
            close_segment(call, moment)
            if accepted is not None and moment >= accepted:
                call.absent_since = moment
    if accepted is not None:
        open_segment_if_both(call, accepted)


def close_segment(call: Call, moment: datetime) -> None:
    if call.segment_started_at is not None:
        call.talk_seconds_closed = talk_seconds_at(call, max(moment, call.segment_started_at))
        call.segment_started_at = None


def open_segment_if_both(call: Call, moment: datetime) -> None:
    if call.status != Call.Status.CONNECTED or call.segment_started_at is not None:
        return
    if call.caller_present and call.advisor_present:
        call.segment_started_at = moment
        call.talk_started_at = call.talk_started_at or moment
        call.absent_since = None


def _charge(call: Call, talk_seconds: int, free_seconds: int) -> int:
    billable = charges.billable_seconds(talk_seconds=talk_seconds, free_seconds=free_seconds)
    return charges.charge_minor(
        seconds=billable,
        rate_minor_per_minute=call.rate_minor_per_minute,
        billing_mode=call.billing_mode,
    )


def cost_for(call: Call, talk_seconds: int) -> int:
    """What the caller pays for this much talk."""
    return _charge(call, talk_seconds, call.free_seconds)


def promotion_value_for(call: Call, talk_seconds: int) -> int:
    """What a promotion code's free seconds were worth in this much talk: the charge without
    them less the charge with them (so the two parts add up to the talk's full price)."""
    without = _charge(call, talk_seconds, call.free_seconds - call.promotion_seconds)
    return without - cost_for(call, talk_seconds)


def talk_seconds_covered(call: Call) -> int:
    """How long the talk may run on what is held (free seconds included)."""
    return call.free_seconds + charges.seconds_covered(
        amount_minor=call.held_minor,
        rate_minor_per_minute=call.rate_minor_per_minute,
        billing_mode=call.billing_mode,
    )
