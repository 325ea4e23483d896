from __future__ import annotations

from tenant_apps.pricing.models import PricingPolicy


def policy_get() -> PricingPolicy:
    return PricingPolicy.objects.first() or PricingPolicy()
