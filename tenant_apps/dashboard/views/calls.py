"""Calls: live and past calls, filtered by status, advisor and dates."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse

from tenant_apps.dashboard import forms, selectors
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import paginate, render_page, spreadsheet


@dashboard_view
def calls(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    filters = forms.CallFilterForm(request.GET or None)
    if filters.is_bound and not filters.is_valid():
        return render_page(
            request, "calls.html", {"filters": filters, "live": [], "page": None}, invalid=True
        )
    chosen = filters.cleaned_data if filters.is_bound else {}
    rows = selectors.calls_admin(
        status=chosen.get("status") or None,
        advisor_id=chosen["advisor"].pk if chosen.get("advisor") else None,
        since=chosen.get("since"),
        until=chosen.get("until"),
    )
    if wants_csv(request):
        sheet = spreadsheet()
        return csv_response(
            filename="calls.csv",
            header=[
                "id",
                "created_at",
                "status",
                "advisor",
                "caller_id",
                "talk_seconds",
                "cost_minor",
                "advisor_minor",
                "licensee_minor",
                "currency",
                "end_reason",
                "cost",
                "promotion_minor",
            ],
            rows=(
                [
                    c.pk,
                    sheet.spreadsheet_moment(c.created_at),
                    c.status,
                    c.advisor.display_name,
                    c.caller_id,
                    c.talk_seconds,
                    c.cost_minor,
                    c.advisor_minor,
                    c.licensee_minor,
                    c.currency,
                    c.end_reason,
                    sheet.spreadsheet_amount(c.cost_minor, c.currency),
                    c.promotion_minor,
                ]
                for c in rows
            ),
        )
    return render_page(
        request,
        "calls.html",
        {
            "filters": filters,
            "live": selectors.calls_admin(live=True)[:50],
            "page": paginate(request, rows),
        },
    )
