from datetime import timedelta

import dramatiq
from django.utils import timezone

from shared_apps.billing import overage, services


@dramatiq.actor(queue_name="billing", max_retries=10, min_backoff=10_000, max_backoff=3_600_000)
def subscription_cancel(subscription_id: int) -> None:
    """Cancel a terminated licensee's Stripe subscription; retried while Stripe is down."""
    services.subscription_cancel_in_stripe(subscription_id=subscription_id)


@dramatiq.actor(queue_name="billing", max_retries=5, min_backoff=60_000, max_backoff=3_600_000)
def overage_report_all() -> None:
    """Daily, after yesterday's usage is counted: each licensee's talk minutes past its
    plan's included ones go to Stripe's meter. Idempotent per licensee and day; reports an
    outage held back are retried (by this job's retries, and by the next day's run)."""
    run = overage.overage_report_run(day=timezone.now().date() - timedelta(days=1))
    if run.pending or run.failed:
        raise RuntimeError(
            f"Overage reports: {run.pending} pending on Stripe, failed for "
            f"{', '.join(sorted(run.failed)) or 'none'}"
        )
