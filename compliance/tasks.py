import logging

import dramatiq
from django_tenants.utils import tenant_context

from compliance import services
from tenants.models import Licensee

logger = logging.getLogger(__name__)

EXPORT_TIME_LIMIT_MS = 6 * 3600 * 1000  # a big tenant's archive takes a while


@dramatiq.actor(queue_name="compliance", max_retries=0, time_limit=EXPORT_TIME_LIMIT_MS)
def tenant_export_run(export_id: int) -> None:
    """Write one export's archive (the tenant comes with the message; idempotent)."""
    services.tenant_export_run(export_id=export_id)


@dramatiq.actor(queue_name="maintenance", max_retries=0, time_limit=3_600_000)
def tenant_exports_expire_all() -> None:
    """Daily: expire old exports of every licensee, terminated ones included (their
    archives must go too), each in its own schema; one failing licensee stops no other."""
    for licensee in Licensee.objects.order_by("pk"):
        try:
            with tenant_context(licensee):
                services.tenant_exports_expire()
        except Exception:
            logger.exception("Expiring the exports of %s failed.", licensee.slug)
