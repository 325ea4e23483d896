import dramatiq
from django_tenants.utils import tenant_context

from tenant_apps.payments import services
from tenants import bridge


@dramatiq.actor(queue_name="payments", max_retries=20, min_backoff=2_000, max_backoff=600_000)
def stripe_event_process(event_id: str) -> None:
    """Apply a stored Stripe event (idempotent; the tenant comes with the message)."""
    services.stripe_event_process(event_id=event_id)


@dramatiq.actor(queue_name="payments", max_retries=0)
def refunds_pending_retry() -> None:
    services.refunds_pending_retry()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def refunds_pending_retry_all() -> None:
    """Queue each serving licensee's retry of refunds Stripe has not answered yet."""
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            refunds_pending_retry.send()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def stripe_events_sweep_all() -> None:
    """Queue again every stored Stripe event that was never processed, licensee by licensee
    (processing is idempotent, so a job that was merely slow is harmless to repeat)."""
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            for event_id in services.stripe_events_unprocessed():
                stripe_event_process.send(event_id)
