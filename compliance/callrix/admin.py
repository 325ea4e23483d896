"""Compliance in the staff admin: account holders' rights (export, erasure) and flagging an
account at a licensee as a minor's, which erases it at once and records it in that
licensee's privacy request log."""

from django import forms
from django.contrib import admin
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from compliance.callrix import account_admin  # noqa: F401  (account holders' rights)
from compliance.licensee import erasure
from kernel.errors import DomainError
from shared_apps.licensing.admin import LicenseeAdmin
from tenants.models import Licensee


class MinorAccountForm(forms.Form):
    # Staff act on the licensee's account number (from its report or request), never on an
    # end user's name or address: those stay in the licensee's schema.
    account_id = forms.IntegerField(min_value=1, label="Account number at this licensee")
    confirm = forms.BooleanField(
        label="The account is a minor's: erase it now (financial records are pseudonymised)"
    )


class LicenseePrivacyAdmin(LicenseeAdmin):
    readonly_fields = (*LicenseeAdmin.readonly_fields, "minor_account")

    @admin.display(description="Minors")
    def minor_account(self, licensee):
        url = reverse("admin:tenants_licensee_flag_minor", args=[licensee.pk])
        return format_html('<a href="{}">Flag an account as a minor\'s</a>', url)

    def get_urls(self):
        flag = self.admin_site.admin_view(self.flag_minor_view)
        return [
            path("<int:licensee_id>/flag-minor/", flag, name="tenants_licensee_flag_minor"),
            *super().get_urls(),
        ]

    def flag_minor_view(self, request, licensee_id: int):
        licensee = get_object_or_404(Licensee, pk=licensee_id)
        if not self.has_change_permission(request, licensee):
            return redirect("admin:index")
        form = MinorAccountForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            account_id = form.cleaned_data["account_id"]
            try:
                erasure.licensee_account_flag_minor(licensee=licensee, user_id=account_id)
            except DomainError as error:
                form.add_error("account_id", error.detail)
            else:
                self.log_change(request, licensee, f"Account #{account_id} flagged as a minor's.")
                self.message_user(
                    request,
                    f"Account #{account_id} erased; {licensee.display_name}'s privacy request "
                    "log records it.",
                )
                return redirect("admin:tenants_licensee_change", licensee.pk)
        return TemplateResponse(
            request,
            "admin/tenants/licensee/flag_minor.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Flag an account at {licensee.display_name} as a minor's",
                "licensee": licensee,
                "form": form,
                "opts": self.model._meta,
            },
        )


admin.site.unregister(Licensee)
admin.site.register(Licensee, LicenseePrivacyAdmin)
