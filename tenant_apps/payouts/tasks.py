import dramatiq

from tenant_apps.payouts import services


@dramatiq.actor(queue_name="payouts", max_retries=0, time_limit=900_000)
def payouts_run() -> None:
    """The licensee's payout run, if its schedule says one is due (the tenant comes with the
    message). No retries: the scheduler sends the next one within the hour, and a run is
    safe to repeat."""
    services.payouts_run(respect_schedule=True)
