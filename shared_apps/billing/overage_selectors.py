"""What a licensee sees of its plan's minutes: the billing period so far and its latest
invoices, read from the public schema for the licensee's dashboard (through
`tenants.hooks`). Numbers only."""

from __future__ import annotations

from django.utils import timezone

from shared_apps.billing import selectors
from shared_apps.billing.models import Invoice, Subscription
from shared_apps.billing.overage import billing_period, period_minutes_used
from tenants import hooks

INVOICES_SHOWN = 6


def _invoice_view(invoice: Invoice) -> hooks.InvoiceView:
    return hooks.InvoiceView(
        number=invoice.number or invoice.stripe_invoice_id,
        issued_at=invoice.issued_at,
        status=invoice.status,
        total_minor=invoice.total_minor,
        currency=invoice.currency,
        hosted_invoice_url=invoice.hosted_invoice_url,
        lines=tuple(
            hooks.InvoiceLineView(
                description=str(line.get("description") or ""),
                amount_minor=int(line.get("amount_minor") or 0),
                overage=bool(line.get("overage")),
            )
            for line in invoice.lines or []
        ),
    )


def plan_usage(licensee_id: int) -> hooks.PlanUsage | None:
    """The licensee's current period: included, used and overage minutes (used = its days
    counted so far, i.e. through yesterday), and what the overage adds to the next invoice
    at the rate in force now."""
    subscription = (
        Subscription.objects.select_related("plan")
        .filter(licensee_id=licensee_id)
        .exclude(status__in=Subscription.ENDED)
        .first()
    )
    now = timezone.now()
    terms = selectors.licensee_terms_at(licensee_id, now)
    if subscription is None or terms is None:
        return None
    period = billing_period(subscription, now=now)
    used = period_minutes_used(
        licensee_id=licensee_id, first_day=period.first_day, through=now.date()
    )
    over = max(0, used - terms.included_minutes)
    invoices = Invoice.objects.filter(licensee_id=licensee_id).order_by("-issued_at", "-id")
    return hooks.PlanUsage(
        plan_name=terms.plan_name,
        period_start=period.start,
        period_end=period.end,
        included_minutes=terms.included_minutes,
        used_minutes=used,
        overage_minutes=over,
        overage_minor_per_minute=terms.overage_minor_per_minute,
        expected_overage_minor=over * terms.overage_minor_per_minute,
        currency=subscription.plan.currency,
        invoices=tuple(_invoice_view(invoice) for invoice in invoices[:INVOICES_SHOWN]),
    )
