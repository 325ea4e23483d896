"""Data exports of the whole platform."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from compliance.licensee import links as export_links
from compliance.licensee import selectors as export_selectors
from compliance.licensee import services as export_services
from kernel.throttling import LicenseeRateThrottle
from tenant_apps.dashboard.access import dashboard_view
from tenant_apps.dashboard.views.page import act, render_page


@dashboard_view
def exports(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # The same budget as `POST /api/v1/admin/exports`: per admin and licensee.
        request.auth = request.user
        if not LicenseeRateThrottle("export").allow_request(request):
            messages.error(request, _("Too many export requests; please try again later."))
            return redirect("dashboard:exports")
        if act(
            request,
            None,
            action="export.request",
            target="tenant",
            run=lambda: export_services.tenant_export_request(admin=request.user),
        ):
            messages.success(
                request, _("The export is being prepared. This page shows when it is ready.")
            )
        return redirect("dashboard:exports")
    rows = []
    for export in export_selectors.tenant_export_list():
        status = export_selectors.tenant_export_status(export=export)
        download = None
        if status == "ready":
            token = export_links.download_token_make(
                schema=connection.schema_name, export_id=export.pk
            )
            path = reverse("licensee_api:tenant_export_download", kwargs={"export_id": export.pk})
            download = f"{path}?{urlencode({'token': token})}"
        rows.append({"export": export, "status": status, "download": download})
    return render_page(request, "exports.html", {"rows": rows})
