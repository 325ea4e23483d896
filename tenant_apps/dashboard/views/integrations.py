"""Connections to the licensee's own providers: Stripe and Firebase."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from tenant_apps.dashboard import forms
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.views.page import act, origin, render_page
from tenant_apps.notifications import selectors as notification_selectors
from tenant_apps.notifications import services as notification_services
from tenant_apps.payments import selectors as payment_selectors
from tenant_apps.payments import services as payment_services


@dashboard_view
def integrations(request: DashboardRequest) -> HttpResponse:
    stripe_form, firebase_form, invalid = forms.StripeForm(), forms.FirebaseForm(), False
    if request.method == "POST" and request.POST.get("part") == "stripe":
        stripe_form = forms.StripeForm(request.POST)
        if stripe_form.is_valid() and act(
            request,
            stripe_form,
            action="stripe.connect",
            target="stripe",
            run=lambda: payment_services.stripe_connect(
                admin=request.user, **stripe_form.cleaned_data
            ),
        ):
            messages.success(request, _("Stripe is connected."))
            return redirect("dashboard:integrations")
        invalid = True
    elif request.method == "POST" and request.POST.get("part") == "firebase":
        firebase_form = forms.FirebaseForm(request.POST)
        if firebase_form.is_valid() and act(
            request,
            firebase_form,
            action="firebase.connect",
            target="firebase",
            run=lambda: notification_services.firebase_project_set(
                admin=request.user, credentials_json=firebase_form.cleaned_data["credentials_json"]
            ),
            fields={"": "credentials_json"},
        ):
            messages.success(request, _("Firebase is connected."))
            return redirect("dashboard:integrations")
        invalid = True
    context = {
        "stripe": payment_selectors.stripe_connection_summary(),
        "firebase": notification_selectors.firebase_project_get(),
        "stripe_form": stripe_form,
        "firebase_form": firebase_form,
        "webhook_url": f"{origin(request)}/webhooks/stripe",
        "webhook_endpoints": payment_selectors.stripe_webhook_endpoints(origin=origin(request)),
    }
    return render_page(request, "integrations.html", context, invalid=invalid)
