"""Booked sessions (appointments), soonest last booked first."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse

from tenant_apps.appointments import selectors as appointment_selectors
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import paginate, render_page, spreadsheet


@dashboard_view
def bookings(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    rows = appointment_selectors.appointments_for_licensee()
    if wants_csv(request):
        sheet = spreadsheet()
        return csv_response(
            filename="bookings.csv",
            header=[
                "id",
                "advisor",
                "kind",
                "starts_at",
                "ends_at",
                "status",
                "held_minor",
                "held",
            ],
            rows=(
                [
                    a.pk,
                    a.advisor.display_name,
                    a.kind,
                    sheet.spreadsheet_moment(a.starts_at),
                    sheet.spreadsheet_moment(a.ends_at),
                    a.status,
                    a.held_minor,
                    sheet.spreadsheet_amount(a.held_minor),
                ]
                for a in rows
            ),
        )
    return render_page(request, "bookings.html", {"page": paginate(request, rows)})
