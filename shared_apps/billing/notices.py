"""E-mails from billing to Callrix's own staff."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django_tenants.utils import schema_context

from shared_apps.billing.models import LedgerAlert


def staff_emails() -> list[str]:
    with schema_context("public"):
        return sorted(
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )


def ledger_breach_mail(*, alert_id: int) -> None:
    """Tell every staff member a licensee's books broke and its payouts are paused."""
    with schema_context("public"):
        alert = LedgerAlert.objects.select_related("licensee").get(pk=alert_id)
    recipients = staff_emails()
    if not recipients:
        return
    lines = "\n".join(f"- {breach}" for breach in alert.breaches[:50])
    send_mail(
        subject=f"Ledger breach at {alert.licensee.slug}: payouts paused",
        message=(
            f"The nightly ledger check of {alert.licensee.display_name} ({alert.licensee.slug}) "
            f"found {len(alert.breaches)} breach(es):\n\n{lines}\n\n"
            "Its advisor payouts are paused until the alert is resolved in the staff admin "
            "(Billing > Ledger alerts)."
        ),
        from_email=None,
        recipient_list=recipients,
    )
