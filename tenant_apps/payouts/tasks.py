import dramatiq
from django_tenants.utils import tenant_context

from tenant_apps.payouts import services
from tenants import bridge


@dramatiq.actor(queue_name="payouts", max_retries=0, time_limit=900_000)
def payouts_run() -> None:
    """The licensee's payout run, if its schedule says one is due (the tenant comes with the
    message). No retries: the scheduler sends the next one within the hour, and a run is
    safe to repeat."""
    services.payouts_run(respect_schedule=True)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def payouts_run_all() -> None:
    """Queue each licensee's payout run, in its own schema; the run checks the licensee's
    payout schedule and does nothing when no run is due."""
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            payouts_run.send()
