import dramatiq

from tenants import provisioning


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def spare_pool_refill() -> None:
    """Top the warm pool back up after a provisioning took a spare (idempotent)."""
    provisioning.spare_pool_refill()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def mail_unqueued_requeue_all() -> None:
    """Queue again the mail the job queue would not take while Redis was down: Callrix's own
    (public schema) and each licensee's, in its own schema."""
    from django_tenants.utils import schema_context, tenant_context

    from branding.outbox.services import mail_unqueued_requeue
    from tenants import bridge

    with schema_context("public"):
        mail_unqueued_requeue()
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            mail_unqueued_requeue()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def jobs_pending_flush_all() -> None:
    """Send the jobs the queue would not take when their transaction committed (Redis was
    down; `kernel.job_outbox`): Callrix's own, then each licensee's, in its own schema."""
    from django_tenants.utils import schema_context, tenant_context

    from kernel.job_outbox.services import jobs_pending_flush
    from tenants import bridge

    with schema_context("public"):
        jobs_pending_flush()
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            jobs_pending_flush()
