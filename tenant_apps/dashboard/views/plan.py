"""The licensee's plan with Callrix: this billing period's talk minutes (included, used, past
the included ones and what those add to the next invoice) and the latest invoices with their
lines, as Callrix's billing reports them through the bridge."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import pgettext

from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.views.page import render_page
from tenants.bridge import licensee_current, licensee_plan_usage


def _invoice_statuses() -> dict[str, str]:
    return {
        "draft": pgettext("invoice status", "Draft"),
        "open": pgettext("invoice status", "Open"),
        "paid": pgettext("invoice status", "Paid"),
        "uncollectible": pgettext("invoice status", "Uncollectible"),
        "void": pgettext("invoice status", "Void"),
    }


@dashboard_view(owner_only=True)
def plan(request: DashboardRequest) -> HttpResponse:
    usage = licensee_plan_usage(licensee_current().pk)
    statuses = _invoice_statuses()
    invoices = [
        {"invoice": invoice, "status": statuses.get(invoice.status, invoice.status)}
        for invoice in (usage.invoices if usage else ())
    ]
    return render_page(request, "plan.html", {"usage": usage, "invoices": invoices})
