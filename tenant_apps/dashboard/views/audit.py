"""The audit trail: every change made from the dashboard, by whom and when."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse

from tenant_apps.dashboard import selectors
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import paginate, render_page, spreadsheet


@dashboard_view
def audit(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    rows = selectors.audit_entries(action=request.GET.get("action") or None)
    if wants_csv(request):
        sheet = spreadsheet()
        return csv_response(
            filename="audit-trail.csv",
            header=["at", "actor", "action", "target", "details"],
            rows=(
                [
                    sheet.spreadsheet_moment(e.created_at),
                    e.actor.email,
                    e.action,
                    e.target,
                    e.details,
                ]
                for e in rows
            ),
        )
    return render_page(request, "audit.html", {"page": paginate(request, rows)})
