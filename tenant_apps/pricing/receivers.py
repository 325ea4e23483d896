"""The licensee's pricing follows the terms of its Callrix plan."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django_tenants.utils import tenant_context

from tenant_apps.pricing import services
from tenant_apps.pricing.selectors import policy_get
from tenants.bridge import licensee_terms_set


@receiver(licensee_terms_set)
def pricing_from_plan(sender: Any, licensee: Any, revenue_share_bps: int, **kwargs: Any) -> None:
    """Callrix's fee on each call is the plan's revenue share; the advisors' default share
    shrinks if the two would exceed the whole charge."""
    with tenant_context(licensee):
        advisor_share = min(policy_get().advisor_share_bps, 10_000 - revenue_share_bps)
        services.policy_update(callrix_fee_bps=revenue_share_bps, advisor_share_bps=advisor_share)
