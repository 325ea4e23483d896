import dramatiq
from django_tenants.utils import tenant_context

from tenant_apps.appointments import services
from tenants import bridge


@dramatiq.actor(queue_name="calls", max_retries=0, time_limit=120_000)
def appointments_run() -> None:
    """Remind the bookings that start within the hour; ring those whose time has come."""
    services.appointments_remind()
    services.appointments_ring()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def appointments_run_all() -> None:
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            appointments_run.send()
