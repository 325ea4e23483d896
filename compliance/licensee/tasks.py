import dramatiq

from compliance.licensee import services

EXPORT_TIME_LIMIT_MS = 6 * 3600 * 1000  # a big tenant's archive takes a while


@dramatiq.actor(queue_name="compliance", max_retries=0, time_limit=EXPORT_TIME_LIMIT_MS)
def tenant_export_run(export_id: int) -> None:
    """Write one export's archive (the tenant comes with the message; idempotent)."""
    services.tenant_export_run(export_id=export_id)
