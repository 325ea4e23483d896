"""The staff admin's view of licensees (public host only). A licensee's status changes only
through the lifecycle services (the actions below), each recorded in Django's LogEntry."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from compliance import erasure
from kernel.errors import DomainError
from tenants import lifecycle
from tenants.models import Domain, Licensee, SpareSchema


class DomainInline(admin.TabularInline):
    """Domains are made by provisioning or added and DNS-verified by the licensee itself."""

    model = Domain
    extra = 0
    fields = ("domain", "is_primary", "verified_at", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _apply(modeladmin, request, queryset, change, verb: str) -> None:
    done = 0
    for licensee in queryset:
        try:
            change(slug=licensee.slug)
        except DomainError as error:
            modeladmin.message_user(request, f"{licensee.slug}: {error.detail}", messages.ERROR)
            continue
        modeladmin.log_change(request, licensee, f"{verb.capitalize()} by staff.")
        done += 1
    if done:
        modeladmin.message_user(request, f"{verb.capitalize()} {done} licensee(s).")


@admin.action(description="Suspend (hosts answer 403; data untouched)")
def suspend(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, lifecycle.licensee_suspend_by_staff, "suspended")


@admin.action(description="Reactivate")
def reactivate(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, lifecycle.licensee_reactivate_by_staff, "reactivated")


@admin.action(description="Terminate (hosts answer 410; data deleted after 30 days)")
def terminate(modeladmin, request, queryset):
    # Irreversible, so it asks once more, as Django's own delete action does.
    if request.POST.get("confirm") != "yes":
        return TemplateResponse(
            request,
            "admin/tenants/licensee/terminate_confirmation.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Terminate licensees?",
                "licensees": queryset,
                "opts": modeladmin.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
    _apply(modeladmin, request, queryset, lifecycle.licensee_terminate, "terminated")
    return None


class MinorAccountForm(forms.Form):
    # Staff act on the licensee's account number (from its report or request), never on an
    # end user's name or address: those stay in the licensee's schema.
    account_id = forms.IntegerField(min_value=1, label="Account number at this licensee")
    confirm = forms.BooleanField(
        label="The account is a minor's: erase it now (financial records are pseudonymised)"
    )


@admin.register(Licensee)
class LicenseeAdmin(admin.ModelAdmin):
    list_display = ("slug", "display_name", "status", "currency", "created_at", "terminated_at")
    list_filter = ("status", "currency")
    search_fields = ("slug", "display_name")
    readonly_fields = (
        "schema_name",
        "slug",
        "status",
        "created_at",
        "terminated_at",
        "minor_account",
    )
    inlines = [DomainInline]
    actions = [suspend, reactivate, terminate]

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

    def has_add_permission(self, request):
        return False  # licensees are provisioned by sign-up or `callrix licensee create`

    def has_delete_permission(self, request, obj=None):
        # A licensee's schema is dropped by the retention job after termination, never here.
        return False


@admin.register(SpareSchema)
class SpareSchemaAdmin(admin.ModelAdmin):
    list_display = ("schema_name", "created_at")

    def has_add_permission(self, request):
        return False
