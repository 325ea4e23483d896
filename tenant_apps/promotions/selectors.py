from __future__ import annotations

from typing import TypedDict

from django.db.models import Count, F, Q, QuerySet, Sum

from tenant_apps.promotions.models import Promotion, PromotionUse


def promotion_list() -> QuerySet[Promotion]:
    """Every code with what it has given so far (uses not released, promotion credit paid
    and taken back)."""
    counted = ~Q(uses__status=PromotionUse.Status.RELEASED)
    credited = Q(uses__status=PromotionUse.Status.CREDITED)
    return Promotion.objects.annotate(
        use_count=Count("uses", filter=counted),
        bonus_credited_minor=Sum("uses__bonus_minor", filter=credited),
        reclaimed_minor=Sum("uses__reclaimed_minor", filter=credited),
        free_seconds_given=Sum("uses__free_seconds", filter=counted),
    ).order_by("-created_at", "-id")


class PromotionTotals(TypedDict):
    uses: int
    bonus_minor: int  # promotion credit paid and kept: bonuses and free seconds, net of reclaims
    free_seconds: int


def promotion_totals() -> PromotionTotals:
    """What every code together has given (for the dashboard's report)."""
    given = PromotionUse.objects.exclude(status=PromotionUse.Status.RELEASED).aggregate(
        uses=Count("id"),
        bonus=Sum(
            F("bonus_minor") - F("reclaimed_minor"),
            filter=Q(status=PromotionUse.Status.CREDITED),
        ),
        seconds=Sum("free_seconds"),
    )
    return {
        "uses": given["uses"] or 0,
        "bonus_minor": given["bonus"] or 0,
        "free_seconds": given["seconds"] or 0,
    }
