"""The brand editor: name, colours and images every page of the licensee shows."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from branding import services as brand_services
from branding.selectors import brand_for_licensee, brand_row_get
from tenant_apps.dashboard import forms
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.views.page import act, render_page
from tenants.bridge import licensee_current


@dashboard_view
def brand(request: DashboardRequest) -> HttpResponse:
    licensee = licensee_current()
    current = brand_for_licensee(licensee)
    form = forms.BrandForm(
        initial={field: getattr(current, field) for field in forms.BrandForm.base_fields}
    )
    image_form = forms.BrandImageForm()
    invalid = False
    if request.method == "POST" and request.POST.get("part") == "image":
        image_form = forms.BrandImageForm(request.POST, request.FILES)
        if image_form.is_valid():
            upload = image_form.cleaned_data["image"]
            kind = image_form.cleaned_data["kind"]
            if act(
                request,
                image_form,
                action="brand.image",
                target=kind,
                run=lambda: brand_services.brand_image_set(
                    licensee=licensee,
                    kind=kind,
                    content=upload.read(settings.BRAND_IMAGE_MAX_BYTES + 1),
                ),
                fields={kind: "image"},
            ):
                messages.success(request, _("The image is saved."))
                return redirect("dashboard:brand")
        invalid = True
    elif request.method == "POST":
        form = forms.BrandForm(request.POST)
        if form.is_valid():
            if act(
                request,
                form,
                action="brand.update",
                target="brand",
                details={
                    k: v
                    for k, v in form.cleaned_data.items()
                    if k.endswith("color") or k == "app_name"
                },
                run=lambda: brand_services.brand_update(licensee=licensee, **form.cleaned_data),
            ):
                messages.success(request, _("The brand is saved. Every page shows it now."))
                return redirect("dashboard:brand")
        invalid = True
    row = brand_row_get(licensee_id=licensee.pk)
    return render_page(
        request,
        "brand.html",
        {"form": form, "image_form": image_form, "current": current, "row": row},
        invalid=invalid,
    )
