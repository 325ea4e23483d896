"""Promotion codes, for the licensee's admins. End users redeem them where they pay:
`promo_code` on a top-up (`POST /api/v1/wallet/topups`) or on a session request."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from identity.auth import ADMIN_ROLES, AuthenticatedRequest, TokenAuth
from tenant_apps.promotions import selectors, services
from tenant_apps.promotions.models import Promotion

admin_router = Router(tags=["admin"])
ADMIN = TokenAuth(roles=ADMIN_ROLES)


class PromotionIn(Schema):
    code: str = Field(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["topup_percent", "topup_fixed", "first_session_seconds"]
    percent: int | None = Field(default=None, ge=1, le=100)
    amount: int | None = Field(default=None, ge=1, le=100_000_000)
    free_seconds: int | None = Field(default=None, ge=1, le=86_400)
    max_uses_per_user: int = Field(default=1, ge=1, le=1_000_000)
    max_uses_total: int | None = Field(default=None, ge=1, le=1_000_000_000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class PromotionAdminOut(Schema):
    id: int
    code: str
    kind: str
    percent: int | None
    amount: int | None
    free_seconds: int | None
    max_uses_per_user: int
    max_uses_total: int | None
    starts_at: datetime
    ends_at: datetime | None
    uses: int
    bonus_credited: int  # promotion credit paid: top-up bonuses, free seconds talked
    reclaimed: int  # what refunds and closed accounts took back of it
    free_seconds_given: int


def _out(promotion: Promotion) -> dict[str, object]:
    return {
        "id": promotion.pk,
        "code": promotion.code,
        "kind": promotion.kind,
        "percent": promotion.percent,
        "amount": promotion.amount_minor,
        "free_seconds": promotion.free_seconds,
        "max_uses_per_user": promotion.max_uses_per_user,
        "max_uses_total": promotion.max_uses_total,
        "starts_at": promotion.starts_at,
        "ends_at": promotion.ends_at,
        "uses": getattr(promotion, "use_count", 0),
        "bonus_credited": getattr(promotion, "bonus_credited_minor", None) or 0,
        "reclaimed": getattr(promotion, "reclaimed_minor", None) or 0,
        "free_seconds_given": getattr(promotion, "free_seconds_given", None) or 0,
    }


@admin_router.post("/admin/promotions", response={201: PromotionAdminOut}, auth=ADMIN)
def promotion_create(
    request: AuthenticatedRequest, payload: PromotionIn
) -> Status[dict[str, object]]:
    promotion = services.promotion_create(
        code=payload.code,
        kind=payload.kind,
        percent=payload.percent,
        amount_minor=payload.amount,
        free_seconds=payload.free_seconds,
        max_uses_per_user=payload.max_uses_per_user,
        max_uses_total=payload.max_uses_total,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
    )
    return Status(201, _out(promotion))


@admin_router.get("/admin/promotions", response=list[PromotionAdminOut], auth=ADMIN)
def promotion_list(request: AuthenticatedRequest) -> list[dict[str, object]]:
    return [_out(promotion) for promotion in selectors.promotion_list()]
