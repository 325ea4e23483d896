from __future__ import annotations

from datetime import datetime

from tenant_apps.pricing.models import PricingPolicy
from tenants.bridge import licensee_current, licensee_terms_at


def policy_get() -> PricingPolicy:
    return PricingPolicy.objects.first() or PricingPolicy()


def callrix_fee_bps_at(moment: datetime, policy: PricingPolicy | None = None) -> int:
    """Callrix's fee on a call that started at `moment`: the licensee's contract terms in
    force then (effective-dated, public schema, through the bridge), or the pricing policy's
    own fee for a licensee on no plan."""
    terms = licensee_terms_at(licensee_current().pk, moment)
    if terms is not None:
        return terms.revenue_share_bps
    return (policy or policy_get()).callrix_fee_bps
