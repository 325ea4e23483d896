"""The licensee's billing policy, for its admins."""

from __future__ import annotations

from typing import Literal

from ninja import Router, Schema
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from identity.auth import ADMIN_ROLES, TokenAuth
from tenant_apps.pricing import selectors, services

router = Router(tags=["admin"])


class PricingPolicyOut(Schema):
    billing_mode: str
    min_rate: int
    max_rate: int
    intro_free_seconds: int
    minimum_minutes: int
    ring_timeout_seconds: int
    grace_seconds: int
    low_funds_warning_seconds: int
    advisor_share_bps: int
    platform_fee_bps: int = Field(description="The platform fee on each call (your plan's).")
    # The earlier name, still sent for clients written against it; left out of the docs.
    callrix_fee_bps: SkipJsonSchema[int]
    offline_after_missed: int
    closed_account_balance: str
    video_enabled: bool
    appointment_cancel_hours: int


class PricingPolicyIn(Schema):
    billing_mode: Literal["per_second", "per_minute"] | None = None
    min_rate: int | None = Field(default=None, ge=1, le=1_000_000)
    max_rate: int | None = Field(default=None, ge=1, le=1_000_000)
    intro_free_seconds: int | None = Field(default=None, ge=0, le=3_600)
    minimum_minutes: int | None = Field(default=None, ge=1, le=120)
    ring_timeout_seconds: int | None = Field(default=None, ge=5, le=300)
    grace_seconds: int | None = Field(default=None, ge=0, le=600)
    low_funds_warning_seconds: int | None = Field(default=None, ge=0, le=600)
    advisor_share_bps: int | None = Field(default=None, ge=0, le=10_000)
    offline_after_missed: int | None = Field(default=None, ge=0, le=100)
    closed_account_balance: Literal["refund", "forfeit"] | None = None
    video_enabled: bool | None = None
    appointment_cancel_hours: int | None = Field(default=None, ge=0, le=720)


def _out(policy) -> dict:
    return {
        "billing_mode": policy.billing_mode,
        "min_rate": policy.min_rate_minor,
        "max_rate": policy.max_rate_minor,
        "intro_free_seconds": policy.intro_free_seconds,
        "minimum_minutes": policy.minimum_minutes,
        "ring_timeout_seconds": policy.ring_timeout_seconds,
        "grace_seconds": policy.grace_seconds,
        "low_funds_warning_seconds": policy.low_funds_warning_seconds,
        "advisor_share_bps": policy.advisor_share_bps,
        "platform_fee_bps": policy.callrix_fee_bps,
        "callrix_fee_bps": policy.callrix_fee_bps,
        "offline_after_missed": policy.offline_after_missed,
        "closed_account_balance": policy.closed_account_balance,
        "video_enabled": policy.video_enabled,
        "appointment_cancel_hours": policy.appointment_cancel_hours,
    }


@router.get("/admin/pricing", response=PricingPolicyOut, auth=TokenAuth(roles=ADMIN_ROLES))
def pricing_get(request):
    return _out(selectors.policy_get())


@router.put("/admin/pricing", response=PricingPolicyOut, auth=TokenAuth(roles=ADMIN_ROLES))
def pricing_put(request, payload: PricingPolicyIn):
    """The platform fee is set by your plan, not here."""
    names = {"min_rate": "min_rate_minor", "max_rate": "max_rate_minor"}
    changes = {names.get(key, key): value for key, value in payload.dict(exclude_none=True).items()}
    return _out(services.policy_update(**changes))
