import dramatiq

from shared_apps.licensing import dunning


@dramatiq.actor(queue_name="billing", max_retries=20, min_backoff=2_000, max_backoff=600_000)
def billing_event_process(event_id: str) -> None:
    """Apply a stored Stripe event of Callrix's own account (idempotent; public schema)."""
    dunning.billing_event_apply(event_id=event_id)


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def dunning_run_all() -> None:
    """Daily: suspend licensees whose invoice stayed unpaid past the grace period."""
    dunning.dunning_run()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def billing_events_sweep() -> None:
    """Queue again Callrix's own stored Stripe events that were never processed."""
    for event_id in dunning.billing_events_unprocessed():
        billing_event_process.send(event_id)
