"""Custom domains: add one, prove it with a TXT record, remove it (through the tenancy
bridge: domains are tenancy)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from tenant_apps.dashboard import forms
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.views.page import act, render_page
from tenants import bridge as domain_services
from tenants.bridge import licensee_current


@dashboard_view
def domains(request: DashboardRequest) -> HttpResponse:
    licensee = licensee_current()
    form, invalid = forms.DomainForm(), False
    if request.method == "POST":
        step = request.POST.get("step")
        name = request.POST.get("domain", "")
        if step == "add":
            form = forms.DomainForm(request.POST)
            if form.is_valid() and act(
                request,
                form,
                action="domain.add",
                target=form.cleaned_data["domain"],
                run=lambda: domain_services.custom_domain_add(
                    licensee=licensee, domain=form.cleaned_data["domain"]
                ),
            ):
                messages.success(request, _("Add the TXT record below, then verify."))
                return redirect("dashboard:domains")
            invalid = True
        elif step in ("verify", "remove"):
            run = {
                "verify": lambda: domain_services.custom_domain_verify(
                    licensee=licensee, domain=name
                ),
                "remove": lambda: domain_services.custom_domain_remove(
                    licensee=licensee, domain=name
                ),
            }[step]
            if act(request, None, action=f"domain.{step}", target=name, run=run):
                messages.success(request, _("Done: %(domain)s") % {"domain": name})
            return redirect("dashboard:domains")
    rows = domain_services.custom_domain_list(licensee=licensee)
    return render_page(request, "domains.html", {"domains": rows, "form": form}, invalid=invalid)
