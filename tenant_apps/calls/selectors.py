from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from django.db.models import Q, QuerySet
from django.utils import timezone

from identity.models import User
from tenant_apps.calls import talk
from tenant_apps.calls.models import Call, ChatMessage, QueueEntry, Review
from tenant_apps.pricing import charges
from tenant_apps.wallets.models import LedgerTransaction
from tenant_apps.wallets.selectors import wallet_balance_get


def calls_for_party(*, user: User) -> QuerySet[Call]:
    """Calls the user made or, for an advisor, received — newest first."""
    return (
        Call.objects.filter(Q(caller=user) | Q(advisor__user=user))
        .select_related("advisor", "caller", "review")
        .order_by("-created_at", "-id")
    )


def call_for_party(*, user: User, call_id: int) -> Call | None:
    return calls_for_party(user=user).filter(pk=call_id).first()


class LiveMeter(TypedDict):
    talk_seconds: int
    cost: int
    seconds_left: int | None  # None until both parties talk


def live_meter(call: Call) -> LiveMeter:
    """Talk so far, its cost, and how long the held credit lasts (for the in-call screen)."""
    if call.status != Call.Status.CONNECTED:
        return {"talk_seconds": call.talk_seconds, "cost": call.cost_minor, "seconds_left": None}
    now = timezone.now()
    talk_now = talk.talk_seconds_at(call, now)
    # What is held, plus what the wallet could still add to the hold.
    spendable = call.held_minor + wallet_balance_get(user_id=call.caller_id).available_minor
    affordable = call.free_seconds + charges.seconds_covered(
        amount_minor=spendable,
        rate_minor_per_minute=call.rate_minor_per_minute,
        billing_mode=call.billing_mode,
    )
    return {
        "talk_seconds": talk_now,
        "cost": talk.cost_for(call, talk_now),
        "seconds_left": max(0, affordable - talk_now),
    }


def reviews_for_advisor(*, advisor_id: int, limit: int = 20) -> QuerySet[Review]:
    """An advisor's latest reviews for their public page: rating, comment and date only,
    never who wrote them."""
    return Review.objects.filter(advisor_id=advisor_id).order_by("-created_at", "-id")[:limit]


def chat_messages_for_party(
    *, call: Call, after_id: int = 0, limit: int = 200
) -> list[ChatMessage]:
    """A session's messages after `after_id`, oldest first (the caller has checked that the
    user is a party of `call`)."""
    return list(ChatMessage.objects.filter(call=call, id__gt=after_id).order_by("id")[:limit])


# Without a history, a session is expected to last this long (for the estimated wait).
DEFAULT_SESSION_SECONDS = 600
RECENT_SESSIONS = 10


class QueuePlace(TypedDict):
    status: str
    kind: str
    position: int
    length: int
    estimated_wait_seconds: int
    offer_expires_at: datetime | None


def advisor_typical_session_seconds(*, advisor_id: int) -> int:
    """The mean talk time of the advisor's last RECENT_SESSIONS completed sessions."""
    recent = (
        Call.objects.filter(advisor_id=advisor_id, status=Call.Status.COMPLETED, talk_seconds__gt=0)
        .order_by("-ended_at")
        .values_list("talk_seconds", flat=True)[:RECENT_SESSIONS]
    )
    lengths = list(recent)
    return round(sum(lengths) / len(lengths)) if lengths else DEFAULT_SESSION_SECONDS


def queue_place_get(*, caller: User, advisor_id: int) -> QueuePlace | None:
    """Where this caller stands in the advisor's line, and about how long until their turn:
    what is left of the running session, then one typical session per caller ahead."""
    active = QueueEntry.objects.filter(
        advisor_id=advisor_id, status__in=[QueueEntry.Status.WAITING, QueueEntry.Status.OFFERED]
    ).order_by("id")
    ids = list(active.values_list("id", "caller_id"))
    mine = next((index for index, (_, who) in enumerate(ids) if who == caller.pk), None)
    if mine is None:
        return None
    entry = active.get(pk=ids[mine][0])
    if entry.status == QueueEntry.Status.OFFERED:
        wait = 0
    else:
        typical = advisor_typical_session_seconds(advisor_id=advisor_id)
        running = Call.objects.filter(advisor_id=advisor_id, status__in=["ringing", "connected"])
        started = running.values_list("created_at", flat=True).first()
        elapsed = int((timezone.now() - started).total_seconds()) if started else typical
        wait = max(0, typical - elapsed) + mine * typical  # `mine` callers are ahead
    return {
        "status": entry.status,
        "kind": entry.kind,
        "position": mine + 1,
        "length": len(ids),
        "estimated_wait_seconds": wait,
        "offer_expires_at": entry.offer_expires_at,
    }


def queue_for_advisor(*, user: User) -> QuerySet[QueueEntry]:
    """The line waiting for this advisor (their console)."""
    return (
        QueueEntry.objects.filter(
            advisor__user=user,
            status__in=[QueueEntry.Status.WAITING, QueueEntry.Status.OFFERED],
        )
        .select_related("caller")
        .order_by("id")
    )


def call_advisor_names(call_ids: list[int]) -> dict[int, tuple[str, str]]:
    """{call id: (its advisor's display name, its kind)}, for the wallet history's lines."""
    rows = Call.objects.filter(pk__in=call_ids).values_list("pk", "advisor__display_name", "kind")
    return {pk: (name, kind) for pk, name, kind in rows}


def settlement_shares(*, call_id: int) -> dict[str, int]:
    """The advisor's commission and the platform fee (basis points) the call was settled
    with, as its settlement posting recorded them (empty for calls settled before they were),
    named as the licensee's API names them."""
    posting = LedgerTransaction.objects.filter(idempotency_key=f"call:{call_id}:settle").first()
    metadata = posting.metadata if posting else {}
    names = {"advisor_share_bps": "advisor_share_bps", "callrix_fee_bps": "platform_fee_bps"}
    return {
        shown: int(metadata[key])
        for key, shown in names.items()
        if isinstance(metadata.get(key), int)
    }
