"""The overview: revenue, talk minutes, calls and new users over 7, 30 or 90 days."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from kernel.money import major_decimal
from tenant_apps.dashboard import selectors
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import render_page, spreadsheet
from tenant_apps.promotions.selectors import promotion_totals
from tenants.bridge import licensee_current


@dashboard_view
def overview(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    try:
        days = int(request.GET.get("period", 30))
    except ValueError:
        days = 0
    if days not in selectors.PERIODS:
        return render_page(
            request,
            "overview.html",
            {
                "period_error": _("Choose a period of 7, 30 or 90 days."),
                "periods": selectors.PERIODS,
            },
            invalid=True,
        )
    period = selectors.period_for(days)
    data = selectors.overview_get(period=period)
    sheet = spreadsheet()  # the reader's formats, for the charts' days and the CSV
    labels = [sheet.month_day(day) for day in period.day_list()]
    currency = licensee_current().currency
    charts = {
        "revenue": {
            "type": "bar",
            "labels": labels,
            "datasets": [
                {
                    "label": _("Revenue"),
                    "data": [
                        float(major_decimal(row["revenue_minor"], currency))
                        for row in data["series"]
                    ],
                }
            ],
        },
        "talk": {
            "type": "line",
            "labels": labels,
            "datasets": [
                {
                    "label": _("Talk minutes"),
                    "data": [row["talk_minutes"] for row in data["series"]],
                },
            ],
        },
        "activity": {
            "type": "bar",
            "labels": labels,
            "datasets": [
                {"label": _("Calls"), "data": [row["calls"] for row in data["series"]]},
                {"label": _("New users"), "data": [row["new_users"] for row in data["series"]]},
            ],
        },
    }
    if wants_csv(request):
        return csv_response(
            filename=f"overview-{period.first_day}-{period.last_day}.csv",
            header=["day", "revenue_minor", "talk_minutes", "calls", "new_users", "revenue"],
            rows=(
                [
                    row["day"],
                    row["revenue_minor"],
                    sheet.spreadsheet_number(row["talk_minutes"]),
                    row["calls"],
                    row["new_users"],
                    sheet.spreadsheet_amount(row["revenue_minor"], currency),
                ]
                for row in data["series"]
            ),
        )
    return render_page(
        request,
        "overview.html",
        {
            "data": data,
            "period": period,
            "periods": selectors.PERIODS,
            "charts": charts,
            "promotions": promotion_totals(),
        },
    )
