"""The nightly check of every licensee's ledger (`callrix ledger verify`, scheduled)."""

from __future__ import annotations

import logging

import dramatiq

from tenant_apps.wallets import services
from tenants import bridge

logger = logging.getLogger(__name__)


@dramatiq.actor(queue_name="maintenance", max_retries=0, time_limit=3_600_000)
def ledger_verify_all() -> None:
    """Verify each serving licensee's ledger, one tenant context at a time; a breach is
    reported through `ledger_checked` (recorded, e-mailed to staff, payouts paused)."""
    for licensee in bridge.licensee_list_serving():
        breaches = services.ledger_check_report(licensee=licensee)
        if breaches:
            logger.error("ledger breaches at %s: %d", licensee.slug, len(breaches))
