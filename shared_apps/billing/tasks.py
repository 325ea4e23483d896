import dramatiq

from shared_apps.billing import services


@dramatiq.actor(queue_name="billing", max_retries=10, min_backoff=10_000, max_backoff=3_600_000)
def subscription_cancel(subscription_id: int) -> None:
    """Cancel a terminated licensee's Stripe subscription; retried while Stripe is down."""
    services.subscription_cancel_in_stripe(subscription_id=subscription_id)
