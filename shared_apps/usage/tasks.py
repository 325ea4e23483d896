from datetime import timedelta

import dramatiq
from django.utils import timezone

from shared_apps.usage import metering


@dramatiq.actor(queue_name="maintenance", max_retries=3, time_limit=3_600_000)
def usage_collect_all() -> None:
    """Nightly: yesterday's usage counts of every licensee, then last month's revenue share
    reported to Stripe — both idempotent, so a rerun or a retry changes nothing."""
    today = timezone.now().date()
    usage = metering.usage_collect(day=today - timedelta(days=1))
    shares = metering.revenue_share_report_all(month_start=metering.previous_month(today))
    failed = {**usage.failed, **shares.failed}
    if failed:
        raise RuntimeError(f"Usage or revenue share failed for: {', '.join(sorted(failed))}")
