"""A caller's rating of a call they talked in; the advisor's running rating moves with it."""

from __future__ import annotations

from django.db import transaction

from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.errors import CallNotFound, ReviewRefused
from tenant_apps.calls.models import Call, Review

REVIEW_MIN_TALK_SECONDS = 60


def review_create(*, caller: User, call_id: int, rating: int, comment: str = "") -> Review:
    if not 1 <= rating <= 5:
        raise ReviewRefused("Rate from 1 to 5.", field="rating")
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id, caller=caller).first()
        if call is None:
            raise CallNotFound("There is no such call.", field="call_id")
        if call.status != Call.Status.COMPLETED or call.talk_seconds < REVIEW_MIN_TALK_SECONDS:
            raise ReviewRefused(
                f"Only calls with at least {REVIEW_MIN_TALK_SECONDS} seconds of talk can be rated.",
                field="call_id",
            )
        if Review.objects.filter(call=call).exists():
            raise ReviewRefused("You have already rated this call.", field="call_id")
        review = Review.objects.create(
            call=call,
            caller=caller,
            advisor_id=call.advisor_id,
            rating=rating,
            comment=(comment or "").strip()[:2_000],
        )
        advisor = Advisor.objects.select_for_update().get(pk=call.advisor_id)
        advisor.rating_sum += rating
        advisor.rating_count += 1
        advisor.save(update_fields=["rating_sum", "rating_count"])
    return review
