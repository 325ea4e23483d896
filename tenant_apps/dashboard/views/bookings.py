"""Booked sessions (appointments), soonest last booked first."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse

from tenant_apps.appointments import selectors as appointment_selectors
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import paginate, render_page


@dashboard_view
def bookings(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    rows = appointment_selectors.appointments_for_licensee()
    if wants_csv(request):
        return csv_response(
            filename="bookings.csv",
            header=["id", "advisor", "kind", "starts_at", "ends_at", "status", "held_minor"],
            rows=(
                [
                    a.pk,
                    a.advisor.display_name,
                    a.kind,
                    a.starts_at.isoformat(),
                    a.ends_at.isoformat(),
                    a.status,
                    a.held_minor,
                ]
                for a in rows
            ),
        )
    return render_page(request, "bookings.html", {"page": paginate(request, rows)})
