"""Every periodic job of Callrix, for the one scheduler process (`callrix scheduler`)."""

from __future__ import annotations

from kernel.scheduler import Periodic


def schedule() -> list[Periodic]:
    return [
        Periodic(15, "tenant_apps.calls.tasks.calls_reconcile_all"),
        # Booked sessions: reminders an hour ahead, ringing at the start time.
        Periodic(30, "tenant_apps.appointments.tasks.appointments_run_all"),
        Periodic(300, "tenants.tasks.spare_pool_refill"),
        Periodic(3600, "tenant_apps.payouts.tasks.payouts_run_all"),
        Periodic(86400, "shared_apps.usage.tasks.usage_collect_all"),
        Periodic(86400, "shared_apps.licensing.tasks.dunning_run_all"),
        # Every retention rule of the privacy policy, expired exports included.
        Periodic(86400, "compliance.callrix.tasks.retention_run_all"),
        Periodic(86400, "tenant_apps.calls.tasks.chat_messages_expire_all"),
    ]
