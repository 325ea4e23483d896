from __future__ import annotations

from typing import TypedDict

from django.db.models import Q, QuerySet
from django.utils import timezone

from identity.models import User
from tenant_apps.calls import talk
from tenant_apps.calls.models import Call, ChatMessage, Review
from tenant_apps.pricing import charges
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
