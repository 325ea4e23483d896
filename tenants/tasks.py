import dramatiq

from tenants import provisioning


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def spare_pool_refill() -> None:
    """Top the warm pool back up after a provisioning took a spare (idempotent)."""
    provisioning.spare_pool_refill()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def calls_reconcile_all() -> None:
    """Queue each serving licensee's call reconciler, in its own schema."""
    from django_tenants.utils import tenant_context

    from tenant_apps.calls.tasks import calls_reconcile
    from tenants.models import Licensee

    for licensee in Licensee.objects.exclude(status=Licensee.Status.TERMINATED):
        with tenant_context(licensee):
            calls_reconcile.send()
