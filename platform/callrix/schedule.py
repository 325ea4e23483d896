"""Every periodic job of Callrix, for the one scheduler process (`callrix scheduler`).

Times are UTC (cron expressions, `kernel.scheduler`): the nightly jobs run once a day at a
fixed hour whatever the licensees' time zones, spread out so they do not start together."""

from __future__ import annotations

from kernel.scheduler import Periodic


def schedule() -> list[Periodic]:
    return [
        Periodic("tenant_apps.calls.tasks.calls_reconcile_all", every=15),
        # Booked sessions: reminders an hour ahead, ringing at the start time.
        Periodic("tenant_apps.appointments.tasks.appointments_run_all", every=30),
        Periodic("tenants.tasks.spare_pool_refill", cron="*/5 * * * *"),
        Periodic("tenant_apps.payouts.tasks.payouts_run_all", cron="5 * * * *"),
        # Refunds whose Stripe answer never came, asked again with their idempotency key.
        Periodic("tenant_apps.payments.tasks.refunds_pending_retry_all", cron="*/5 * * * *"),
        Periodic("tenants.tasks.mail_unqueued_requeue_all", cron="*/5 * * * *"),
        # Jobs written with their transaction that the queue did not take (Redis was down).
        Periodic("tenants.tasks.jobs_pending_flush_all", cron="* * * * *"),
        # Stored provider events whose job was lost, queued again.
        Periodic("tenant_apps.payments.tasks.stripe_events_sweep_all", cron="*/5 * * * *"),
        Periodic("shared_apps.licensing.tasks.billing_events_sweep", cron="*/5 * * * *"),
        # Nightly, after the UTC day ended: yesterday's usage, then dunning, then retention.
        Periodic("shared_apps.usage.tasks.usage_collect_all", cron="15 0 * * *"),
        # Minutes past each plan's included ones, reported to Stripe's meter once usage is in.
        Periodic("shared_apps.billing.tasks.overage_report_all", cron="50 0 * * *"),
        Periodic("shared_apps.licensing.tasks.dunning_run_all", cron="30 1 * * *"),
        # Every licensee's ledger invariants, nightly; a breach pauses its payouts until resolved.
        Periodic("tenant_apps.wallets.tasks.ledger_verify_all", cron="45 2 * * *"),
        # Every retention rule of the privacy policy, expired exports included.
        Periodic("compliance.callrix.tasks.retention_run_all", cron="0 3 * * *"),
        # Chat transcripts past CHAT_RETENTION_DAYS.
        Periodic("tenant_apps.calls.tasks.chat_messages_expire_all", cron="15 3 * * *"),
    ]
