"""The licensee dashboard's compliance pages: an end user's data-subject requests (their data
as an access request answer; flagging a minor's account, which erases it) and the data exports
of the whole platform.

Compliance sits above the tenant apps: it imports them, they never import it. So these pages
live here, built from the dashboard's own parts (its access rule, `views.page`, its
templates), and their URL patterns (`dashboard_urls`) join the dashboard's in the one
"dashboard" namespace in the composition root (`callrix.urls_tenant`). Where the dashboard's
own pages lead here (the menu link to the exports, the rights section of an end user's page),
this app adds the part from its `ready()` through `tenant_apps.dashboard.contributions`."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.licensee import erasure, subject_access
from compliance.licensee import links as export_links
from compliance.licensee import selectors as export_selectors
from compliance.licensee import services as export_services
from compliance.licensee.models import PrivacyRequest
from identity.models import User
from kernel.tenant_connection import connection
from kernel.throttling import LicenseeRateThrottle
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.services import audit_record
from tenant_apps.dashboard.views.end_users import end_user_or_404
from tenant_apps.dashboard.views.page import act, render_page

# --- An end user's data-subject requests ---------------------------------------------------


@require_POST
@dashboard_view
def user_flag_minor(request: DashboardRequest, user_id: int) -> HttpResponse:
    """The account is a minor's: erased at once (financial records kept under a pseudonym),
    logged in the privacy request log and the audit trail."""
    person = end_user_or_404(user_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the account is a minor's."))
        return redirect("dashboard:user", user_id=person.pk)
    if act(
        request,
        None,
        action="user.flag_minor",
        target=f"user:{person.pk}",
        run=lambda: erasure.account_flag_minor(
            user_id=person.pk,
            flagged_by_id=request.user.pk,
            channel=PrivacyRequest.Channel.ADMIN,
        ),
    ):
        messages.success(
            request,
            _("Account #%(id)s was a minor's and has been erased.") % {"id": person.pk},
        )
        return redirect("dashboard:users")
    return redirect("dashboard:user", user_id=person.pk)


@require_POST
@dashboard_view
def user_subject_export(request: DashboardRequest, user_id: int) -> HttpResponse:
    """Answer an end user's access request (GDPR art. 15): their data as the JSON they would
    download themselves, recorded in the audit trail."""
    person = end_user_or_404(user_id)
    with transaction.atomic():
        data = subject_access.subject_export(user=person)
        audit_record(actor=request.user, action="user.subject_export", target=f"user:{person.pk}")
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="user-{person.pk}-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Data exports of the whole platform ----------------------------------------------------


class ExportsRequest(DashboardRequest):
    """The exports page's request: the view also puts the user on `auth` (where django-ninja's
    authentication puts it), which `LicenseeRateThrottle` keys on. For annotations only."""

    auth: User


@dashboard_view
def exports(request: ExportsRequest) -> HttpResponse:
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
