"""Payouts to advisors, by status, with the payout policy."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse

from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import paginate, render_page, spreadsheet
from tenant_apps.payouts import selectors as payout_selectors
from tenant_apps.payouts.models import Payout


@dashboard_view
def payouts(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    status = request.GET.get("status") or None
    rows = payout_selectors.payouts_admin(status=status).select_related("advisor")
    if wants_csv(request):
        sheet = spreadsheet()
        return csv_response(
            filename="payouts.csv",
            header=["id", "advisor", "amount_minor", "currency", "status", "created_at", "amount"],
            rows=(
                [
                    p.pk,
                    p.advisor.display_name,
                    p.amount_minor,
                    p.currency,
                    p.status,
                    sheet.spreadsheet_moment(p.created_at),
                    sheet.spreadsheet_amount(p.amount_minor, p.currency),
                ]
                for p in rows
            ),
        )
    return render_page(
        request,
        "payouts.html",
        {
            "page": paginate(request, rows),
            "status": status or "",
            "statuses": Payout.Status.choices,
            "policy": payout_selectors.policy_get(),
        },
    )
