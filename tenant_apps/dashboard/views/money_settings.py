"""Money settings: the top-up packages on sale and the billing policy."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenant_apps.dashboard import forms
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import act, render_page, spreadsheet
from tenant_apps.payments import selectors as payment_selectors
from tenant_apps.payments import services as payment_services
from tenant_apps.payments.models import TopUpPackage
from tenant_apps.pricing import services as pricing_services
from tenant_apps.pricing.selectors import policy_get


@dashboard_view
def packages(request: DashboardRequest, form=None) -> HttpResponse | StreamingHttpResponse:
    rows = TopUpPackage.objects.order_by("sort_order", "amount_minor")
    if wants_csv(request):
        sheet = spreadsheet()
        return csv_response(
            filename="topup-packages.csv",
            header=["code", "name", "amount_minor", "bonus_minor", "active", "amount", "bonus"],
            rows=(
                [
                    p.code,
                    p.name,
                    p.amount_minor,
                    p.bonus_minor,
                    p.active,
                    sheet.spreadsheet_amount(p.amount_minor),
                    sheet.spreadsheet_amount(p.bonus_minor),
                ]
                for p in rows
            ),
        )
    return render_page(
        request,
        "packages.html",
        {
            "packages": rows,
            "form": form or forms.PackageForm(),
            "policy": payment_selectors.topup_policy_get(),
        },
        invalid=form is not None,
    )


@require_POST
@dashboard_view
def package_create(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    form = forms.PackageForm(request.POST)
    if form.is_valid() and act(
        request,
        form,
        action="package.create",
        target=form.cleaned_data["code"],
        run=lambda: payment_services.topup_package_create(
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            amount_minor=form.cleaned_data["amount"],
            bonus_minor=form.cleaned_data["bonus"] or 0,
        ),
    ):
        messages.success(request, _("The package is on sale."))
        return redirect("dashboard:packages")
    return packages(request, form=form)


@dashboard_view
def pricing(request: DashboardRequest) -> HttpResponse:
    policy = policy_get()
    if request.method == "POST":
        form = forms.PricingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            changes = {
                "billing_mode": data["billing_mode"],
                "intro_free_seconds": data["intro_free_seconds"],
                "minimum_minutes": data["minimum_minutes"],
                "grace_seconds": data["grace_seconds"],
                "min_rate_minor": data["min_rate"],
                "max_rate_minor": data["max_rate"],
                "advisor_share_bps": int(data["advisor_share_percent"] * 100),
                "video_enabled": data["video_enabled"],
            }
            if data["appointment_cancel_hours"] is not None:
                changes["appointment_cancel_hours"] = data["appointment_cancel_hours"]
            if act(
                request,
                form,
                action="pricing.update",
                target="pricing",
                details={k: str(v) for k, v in changes.items()},
                run=lambda: pricing_services.policy_update(**changes),
                fields={"min_rate": "min_rate", "advisor_share_bps": "advisor_share_percent"},
            ):
                messages.success(request, _("The billing policy is saved."))
                return redirect("dashboard:pricing")
        return render_page(request, "pricing.html", {"form": form, "policy": policy}, invalid=True)
    form = forms.PricingForm(
        initial={
            "billing_mode": policy.billing_mode,
            "intro_free_seconds": policy.intro_free_seconds,
            "minimum_minutes": policy.minimum_minutes,
            "grace_seconds": policy.grace_seconds,
            # Minor units: MoneyField shows them with the currency's own digits.
            "min_rate": policy.min_rate_minor,
            "max_rate": policy.max_rate_minor,
            "advisor_share_percent": policy.advisor_share_bps / 100,
            "video_enabled": policy.video_enabled,
            "appointment_cancel_hours": policy.appointment_cancel_hours,
        }
    )
    return render_page(request, "pricing.html", {"form": form, "policy": policy})
