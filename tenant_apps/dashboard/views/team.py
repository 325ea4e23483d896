"""The team: the licensee's owner and admins; only the owner invites."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from identity import services as identity_services
from identity.models import User
from tenant_apps.dashboard import forms, selectors
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import act, origin, render_page, spreadsheet


@dashboard_view
def team(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    form, invalid = forms.TeamInviteForm(), False
    if request.method == "POST":
        if request.user.role != User.Role.OWNER:
            return render(request, "dashboard/forbidden.html", status=403)
        form = forms.TeamInviteForm(request.POST)
        if form.is_valid() and act(
            request,
            form,
            action="team.invite",
            target=form.cleaned_data["email"].strip().lower(),
            run=lambda: identity_services.admin_invite(
                email=form.cleaned_data["email"],
                display_name=form.cleaned_data["display_name"],
                invited_by=request.user,
                origin=origin(request),
            ),
        ):
            messages.success(request, _("Invitation sent."))
            return redirect("dashboard:team")
        invalid = True
    members = selectors.team_members()
    if wants_csv(request):
        sheet = spreadsheet()
        return csv_response(
            filename="team.csv",
            header=["id", "name", "email", "role", "active", "joined"],
            rows=(
                [
                    m.pk,
                    m.display_name,
                    m.email,
                    m.role,
                    m.is_active,
                    sheet.spreadsheet_day(m.date_joined),
                ]
                for m in members
            ),
        )
    return render_page(request, "team.html", {"members": members, "form": form}, invalid=invalid)
