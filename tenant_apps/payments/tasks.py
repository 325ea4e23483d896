import dramatiq

from tenant_apps.payments import services


@dramatiq.actor(queue_name="payments", max_retries=20, min_backoff=2_000, max_backoff=600_000)
def stripe_event_process(event_id: str) -> None:
    """Apply a stored Stripe event (idempotent; the tenant comes with the message)."""
    services.stripe_event_process(event_id=event_id)
