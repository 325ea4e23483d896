"""Promotion codes: what each has given (uses, promotion credit paid and taken back) and a
form to create one. The rules are the promotions app's (`promotion_create`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenant_apps.dashboard import forms
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.views.page import act, render_page
from tenant_apps.promotions import selectors as promotion_selectors
from tenant_apps.promotions import services as promotion_services


@dashboard_view
def promotions(request: DashboardRequest, form: forms.PromotionForm | None = None) -> HttpResponse:
    return render_page(
        request,
        "promotions.html",
        {
            "promotions": promotion_selectors.promotion_list()[:200],
            "totals": promotion_selectors.promotion_totals(),
            "form": form or forms.PromotionForm(),
        },
        invalid=form is not None,
    )


@require_POST
@dashboard_view
def promotion_create(request: DashboardRequest) -> HttpResponse:
    form = forms.PromotionForm(request.POST)
    if form.is_valid() and act(
        request,
        form,
        action="promotion.create",
        target=form.cleaned_data["code"].upper(),
        run=lambda: promotion_services.promotion_create(
            code=form.cleaned_data["code"],
            kind=form.cleaned_data["kind"],
            percent=form.cleaned_data["percent"],
            amount_minor=form.cleaned_data["amount"],
            free_seconds=form.cleaned_data["free_seconds"],
            max_uses_per_user=form.cleaned_data["max_uses_per_user"],
            max_uses_total=form.cleaned_data["max_uses_total"],
            ends_at=form.cleaned_data["ends_at"],
        ),
    ):
        messages.success(request, _("The promotion code can be used now."))
        return redirect("dashboard:promotions")
    return promotions(request, form=form)
