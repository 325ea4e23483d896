from __future__ import annotations

from django.db import transaction

from kernel.errors import DomainError
from tenant_apps.pricing.models import PricingPolicy
from tenant_apps.pricing.selectors import policy_get


class InvalidPolicy(DomainError):
    status_code = 422
    code = "invalid_policy"


POLICY_FIELDS = (
    "billing_mode",
    "min_rate_minor",
    "max_rate_minor",
    "intro_free_seconds",
    "minimum_minutes",
    "ring_timeout_seconds",
    "grace_seconds",
    "low_funds_warning_seconds",
    "advisor_share_bps",
    "callrix_fee_bps",
    "offline_after_missed",
    "closed_account_balance",
    "video_enabled",
    "appointment_cancel_hours",
)


def policy_update(**changes) -> PricingPolicy:
    """Change any of POLICY_FIELDS; every rule is checked before anything is saved."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise InvalidPolicy(f"Unknown setting: {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    with transaction.atomic():
        policy = PricingPolicy.objects.select_for_update().first() or policy_get()
        for field, value in changes.items():
            setattr(policy, field, value)
        if policy.billing_mode not in PricingPolicy.BillingMode.values:
            raise InvalidPolicy("Choose per_second or per_minute.", field="billing_mode")
        if policy.min_rate_minor > policy.max_rate_minor:
            raise InvalidPolicy("The lowest rate is above the highest.", field="min_rate")
        if policy.advisor_share_bps + policy.callrix_fee_bps > 10_000:
            raise InvalidPolicy(
                "The advisor's share and Callrix's fee exceed the whole charge.",
                field="advisor_share_bps",
            )
        if policy.minimum_minutes < 1:
            raise InvalidPolicy(
                "A call needs funds for at least one minute.", field="minimum_minutes"
            )
        if policy.closed_account_balance not in PricingPolicy.ClosedAccountBalance.values:
            raise InvalidPolicy("Choose refund or forfeit.", field="closed_account_balance")
        if policy.ring_timeout_seconds < 5:
            raise InvalidPolicy("Let it ring at least 5 seconds.", field="ring_timeout_seconds")
        policy.save()
    return policy
