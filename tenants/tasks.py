from datetime import timedelta

import dramatiq

from compliance import final_export, retention
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


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def payouts_run_all() -> None:
    """Queue each licensee's payout run, in its own schema; the run checks the licensee's
    payout schedule and does nothing when no run is due."""
    from django_tenants.utils import tenant_context

    from tenant_apps.payouts.tasks import payouts_run
    from tenants.models import Licensee

    for licensee in Licensee.objects.exclude(status=Licensee.Status.TERMINATED):
        with tenant_context(licensee):
            payouts_run.send()


@dramatiq.actor(queue_name="billing", max_retries=20, min_backoff=2_000, max_backoff=600_000)
def billing_event_process(event_id: str) -> None:
    """Apply a stored Stripe event of Callrix's own account (idempotent; public schema)."""
    from tenants import dunning

    dunning.billing_event_apply(event_id=event_id)


@dramatiq.actor(queue_name="maintenance", max_retries=3, time_limit=3_600_000)
def usage_collect_all() -> None:
    """Nightly: yesterday's usage counts of every licensee, then last month's revenue share
    reported to Stripe — both idempotent, so a rerun or a retry changes nothing."""
    from django.utils import timezone

    from tenants import metering

    today = timezone.now().date()
    usage = metering.usage_collect(day=today - timedelta(days=1))
    shares = metering.revenue_share_report_all(month_start=metering.previous_month(today))
    failed = {**usage.failed, **shares.failed}
    if failed:
        raise RuntimeError(f"Usage or revenue share failed for: {', '.join(sorted(failed))}")


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def dunning_run_all() -> None:
    """Daily: suspend licensees whose invoice stayed unpaid past the grace period."""
    from tenants import dunning

    dunning.dunning_run()


# Compliance jobs that cross from the public schema into licensees' schemas (bridges live
# here and in compliance/, never in tenant_apps).
FINAL_EXPORT_TIME_LIMIT_MS = 6 * 3600 * 1000


@dramatiq.actor(
    queue_name="compliance",
    max_retries=3,
    min_backoff=60_000,
    time_limit=FINAL_EXPORT_TIME_LIMIT_MS,
)
def final_export_prepare(licensee_id: int) -> None:
    """At termination: write the licensee's final archive and e-mail its owners the link
    (idempotent: a rerun reuses the archive)."""
    final_export.final_export_prepare(licensee_id=licensee_id)


@dramatiq.actor(queue_name="maintenance", max_retries=3, time_limit=3_600_000)
def retention_run_all() -> None:
    """Daily: every retention rule of the privacy policy (idempotent: a rerun deletes
    nothing more). A rule that failed for some licensee makes the job retry."""
    reports = retention.retention_run(dry_run=False)
    failures = [f"{r.rule}: {f}" for r in reports for f in r.failures]
    if failures:
        raise RuntimeError("Retention failed for: " + "; ".join(failures))
