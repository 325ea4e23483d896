from __future__ import annotations

from django.db.models import Case, F, IntegerField, OrderBy, QuerySet, Value, When

from tenant_apps.advisors.models import (
    SESSION_KINDS,
    Advisor,
    AdvisorApplication,
    CommissionOverride,
    Favorite,
)
from tenant_apps.pricing.selectors import policy_get

SORTS: dict[str, list[OrderBy | str]] = {
    "rating": [F("rating_avg").desc(nulls_last=True), "display_name"],
    "price": ["rate_minor_per_minute", "display_name"],
    "-price": ["-rate_minor_per_minute", "display_name"],
    "name": ["display_name"],
}


def advisor_list_public(
    *,
    category: str | None = None,
    status: str | None = None,
    language: str | None = None,
    sort: str = "rating",
    kind: str | None = None,
) -> QuerySet[Advisor]:
    """Advisors an end user may see: not suspended, online first, then by the chosen order."""
    advisors = Advisor.objects.filter(suspended=False).annotate(
        presence_rank=Case(
            When(status=Advisor.Status.ONLINE, then=Value(0)),
            When(status=Advisor.Status.BUSY, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        rating_avg=Case(
            When(rating_count=0, then=None),
            default=F("rating_sum") * 1.0 / F("rating_count"),
        ),
    )
    if category:
        advisors = advisors.filter(categories__contains=[category.lower()])
    if language:
        advisors = advisors.filter(languages__contains=[language.lower()])
    if status:
        advisors = advisors.filter(status=status)
    if kind:
        advisors = advisors.filter(kinds__contains=[kind])
    return advisors.order_by("presence_rank", *SORTS[sort], "id")


def advisor_get_public(*, advisor_id: int) -> Advisor | None:
    return Advisor.objects.filter(pk=advisor_id, suspended=False).first()


def advisor_for_user(*, user_id: int) -> Advisor | None:
    return Advisor.objects.filter(user_id=user_id).first()


def favorite_advisor_ids(*, user_id: int) -> set[int]:
    return set(Favorite.objects.filter(user_id=user_id).values_list("advisor_id", flat=True))


def advisor_list_admin(*, text: str | None = None) -> QuerySet[Advisor]:
    advisors = Advisor.objects.select_related("user").order_by("display_name", "id")
    if text:
        advisors = advisors.filter(display_name__icontains=text) | advisors.filter(
            user__email__icontains=text
        )
    return advisors


def session_kinds_enabled() -> frozenset[str]:
    """The kinds of session this platform runs (the licensee may switch video off)."""
    if policy_get().video_enabled:
        return frozenset(SESSION_KINDS)
    return frozenset(kind for kind in SESSION_KINDS if kind != "video")


def advisor_rates_offered(advisor: Advisor, enabled: frozenset[str]) -> dict[str, int]:
    """What an advisor offers end users: their kinds the platform runs, with the rates."""
    return {kind: rate for kind, rate in advisor.rates.items() if kind in enabled}


def commission_share_bps(*, advisor_id: int, month_minutes: int) -> int | None:
    """The advisor's own share of a call at `month_minutes` talked this month, or None for
    the licensee-wide share."""
    override = CommissionOverride.objects.filter(advisor_id=advisor_id).first()
    return override.share_bps(month_minutes) if override else None


def applications_pending() -> QuerySet[AdvisorApplication]:
    return AdvisorApplication.objects.filter(status=AdvisorApplication.Status.PENDING).order_by(
        "created_at"
    )


def commission_summary(*, advisor_id: int, default_bps: int) -> str:
    """The advisor's commission as they read it on their earnings: "70 %", or the tiers
    ("50 % from 0 min, 60 % from 600 min") or the licensee-wide share."""
    override = CommissionOverride.objects.filter(advisor_id=advisor_id).first()
    if override is None:
        return f"{default_bps / 100:g} %"
    if override.fixed_bps is not None:
        return f"{override.fixed_bps / 100:g} %"
    return ", ".join(f"{bps / 100:g} % ≥ {minutes} min" for minutes, bps in override.tiers)
