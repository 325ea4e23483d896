"""Callrix's side of the nightly ledger check: record a breach and tell staff."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from shared_apps.billing import notices, services
from tenants.hooks import ledger_checked


@receiver(ledger_checked)
def ledger_breach_record(sender: Any, licensee: Any, breaches: list[str], **kwargs: Any) -> None:
    alert = services.ledger_check_record(licensee_id=licensee.pk, breaches=breaches)
    if alert is not None:
        transaction.on_commit(lambda: notices.ledger_breach_mail(alert_id=alert.pk))
