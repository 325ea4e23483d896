"""Advisors: the list, invitations, and one advisor's rate, suspension and calls."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenant_apps.advisors import selectors as advisor_selectors
from tenant_apps.advisors import services as advisor_services
from tenant_apps.dashboard import forms, selectors
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import act, origin, paginate, render_page, spreadsheet
from tenant_apps.payouts import selectors as payout_selectors
from tenants.bridge import licensee_current


@dashboard_view
def advisors(request: DashboardRequest, invite_form=None) -> HttpResponse | StreamingHttpResponse:
    query = (request.GET.get("q") or "").strip()
    rows = advisor_selectors.advisor_list_admin(text=query or None)
    if wants_csv(request):
        sheet = spreadsheet()
        return csv_response(
            filename="advisors.csv",
            header=[
                "id",
                "name",
                "email",
                "status",
                "suspended",
                "rate_minor_per_minute",
                "rating",
                "joined",
                "rate_per_minute",
            ],
            rows=(
                [
                    a.pk,
                    a.display_name,
                    a.user.email,
                    a.status,
                    a.suspended,
                    a.rate_minor_per_minute,
                    a.rating,
                    sheet.spreadsheet_day(a.created_at),
                    sheet.spreadsheet_amount(a.rate_minor_per_minute),
                ]
                for a in rows
            ),
        )
    return render_page(
        request,
        "advisors.html",
        {
            "page": paginate(request, rows),
            "q": query,
            "form": invite_form or forms.InviteAdvisorForm(),
        },
        invalid=invite_form is not None,
    )


@require_POST
@dashboard_view
def advisor_invite(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    form = forms.InviteAdvisorForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if act(
            request,
            form,
            action="advisor.invite",
            target=data["email"].strip().lower(),
            run=lambda: advisor_services.advisor_create(
                email=data["email"],
                display_name=data["display_name"],
                rate_minor=data["rate"],
                admin=request.user,
                origin=origin(request),
            ),
        ):
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": data["email"]})
            return redirect("dashboard:advisors")
    return advisors(request, invite_form=form)


def _advisor_or_404(advisor_id: int):
    advisor = advisor_selectors.advisor_list_admin().filter(pk=advisor_id).first()
    if advisor is None:
        raise Http404(_("There is no such advisor."))
    return advisor


@dashboard_view
def advisor_detail(
    request: DashboardRequest,
    advisor_id: int,
    rate_form=None,
    suspend_form=None,
    commission_form=None,
) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    currency = licensee_current().currency
    context = {
        "advisor": advisor,
        "rate_form": rate_form
        or forms.AdvisorRateForm(initial={"rate": advisor.rate_minor_per_minute}),
        "suspend_form": suspend_form or forms.SuspendForm(),
        "commission_form": commission_form or _commission_form(advisor),
        "calls": selectors.calls_admin(advisor_id=advisor.pk)[:20],
        "payout_state": payout_selectors.payout_state_get(advisor=advisor),
        "currency": currency,
    }
    return render_page(
        request,
        "advisor_detail.html",
        context,
        invalid=bool(rate_form or suspend_form or commission_form),
    )


@require_POST
@dashboard_view
def advisor_rate(request: DashboardRequest, advisor_id: int) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    form = forms.AdvisorRateForm(request.POST)
    if form.is_valid() and act(
        request,
        form,
        action="advisor.rate",
        target=f"advisor:{advisor.pk}",
        details={"rate_minor": form.cleaned_data["rate"]},
        run=lambda: advisor_services.advisor_update(
            advisor_id=advisor.pk, rate_minor=form.cleaned_data["rate"]
        ),
    ):
        messages.success(request, _("The rate is saved."))
        return redirect("dashboard:advisor", advisor_id=advisor.pk)
    return advisor_detail(request, advisor_id, rate_form=form)


@require_POST
@dashboard_view
def advisor_suspend(request: DashboardRequest, advisor_id: int) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    form = forms.SuspendForm(request.POST)
    if form.is_valid() and act(
        request,
        form,
        action="advisor.suspend",
        target=f"advisor:{advisor.pk}",
        details={"reason": form.cleaned_data["reason"]},
        run=lambda: advisor_services.advisor_suspend(
            advisor_id=advisor.pk, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, _("%(name)s is suspended.") % {"name": advisor.display_name})
        return redirect("dashboard:advisor", advisor_id=advisor.pk)
    return advisor_detail(request, advisor_id, suspend_form=form)


@require_POST
@dashboard_view
def advisor_reinstate(request: DashboardRequest, advisor_id: int) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    if act(
        request,
        None,
        action="advisor.reinstate",
        target=f"advisor:{advisor.pk}",
        run=lambda: advisor_services.advisor_reinstate(advisor_id=advisor.pk),
    ):
        messages.success(
            request, _("%(name)s may take calls again.") % {"name": advisor.display_name}
        )
    return redirect("dashboard:advisor", advisor_id=advisor.pk)


def _commission_form(advisor) -> forms.CommissionForm:
    override = getattr(advisor, "commission", None)
    if override is None:
        return forms.CommissionForm()
    return forms.CommissionForm(
        initial={
            "fixed_percent": override.fixed_bps / 100 if override.fixed_bps is not None else None,
            "tiers": ", ".join(f"{minutes}:{bps / 100:g}" for minutes, bps in override.tiers),
        }
    )


@require_POST
@dashboard_view
def advisor_commission(request: DashboardRequest, advisor_id: int) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    form = forms.CommissionForm(request.POST)
    if form.is_valid():
        percent = form.cleaned_data["fixed_percent"]
        fixed = None if percent is None else int(percent * 100)
        tiers = form.cleaned_data["tiers"]
        if act(
            request,
            form,
            action="advisor.commission",
            target=f"advisor:{advisor.pk}",
            details={"fixed_bps": fixed, "tiers": tiers},
            run=lambda: advisor_services.commission_set(
                advisor_id=advisor.pk, fixed_bps=fixed, tiers=tiers, admin=request.user
            ),
            fields={"commission": "fixed_percent", "tiers": "tiers"},
        ):
            messages.success(request, _("The commission is saved."))
            return redirect("dashboard:advisor", advisor_id=advisor.pk)
    return advisor_detail(request, advisor_id, commission_form=form)


@dashboard_view
def applications(request: DashboardRequest, reject_form=None) -> HttpResponse:
    return render_page(
        request,
        "applications.html",
        {
            "applications": advisor_selectors.applications_pending(),
            "reject_form": reject_form or forms.ApplicationRejectForm(),
        },
        invalid=reject_form is not None,
    )


@require_POST
@dashboard_view
def application_approve(request: DashboardRequest, application_id: int) -> HttpResponse:
    if act(
        request,
        None,
        action="advisor.application.approve",
        target=f"application:{application_id}",
        run=lambda: advisor_services.application_approve(
            application_id=application_id, admin=request.user, origin=origin(request)
        ),
    ):
        messages.success(request, _("The applicant is now an advisor and has been invited."))
    return redirect("dashboard:applications")


@require_POST
@dashboard_view
def application_reject(request: DashboardRequest, application_id: int) -> HttpResponse:
    form = forms.ApplicationRejectForm(request.POST)
    if form.is_valid() and act(
        request,
        form,
        action="advisor.application.reject",
        target=f"application:{application_id}",
        details={"note": form.cleaned_data["note"]},
        run=lambda: advisor_services.application_reject(
            application_id=application_id, admin=request.user, note=form.cleaned_data["note"]
        ),
    ):
        messages.success(request, _("The application is declined and the applicant told."))
        return redirect("dashboard:applications")
    return applications(request, reject_form=form)
