"""The staff admin's view of licensees (public host only). A licensee's status changes only
through the lifecycle services (the actions below), each recorded in Django's LogEntry.
Compliance adds its own action (flag an account as a minor's) in `compliance.callrix.admin`."""

from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.helpers import ActionForm
from django.template.response import TemplateResponse

from kernel.errors import DomainError
from shared_apps.licensing import lifecycle
from tenants.models import Domain, Licensee


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
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )
    _apply(modeladmin, request, queryset, lifecycle.licensee_terminate, "terminated")
    return None


class PlanActionForm(ActionForm):
    """The action bar's plan choice, for "Move to the chosen plan"."""

    plan = forms.ChoiceField(required=False, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from shared_apps.billing.selectors import plan_list_active

        plan_field = self.fields["plan"]
        assert isinstance(plan_field, forms.ChoiceField)
        plan_field.choices = [("", "(plan)")] + [
            (plan.code, f"{plan.name} ({plan.currency})") for plan in plan_list_active()
        ]


@admin.action(description="Move to the chosen plan (its fee applies to calls from now on)")
def change_plan(modeladmin, request, queryset):
    plan_code = request.POST.get("plan") or ""
    if not plan_code:
        modeladmin.message_user(request, "Choose a plan first.", messages.ERROR)
        return

    def change(*, slug: str) -> None:
        lifecycle.licensee_plan_change(
            slug=slug, plan_code=plan_code, changed_by_id=request.user.pk
        )

    _apply(modeladmin, request, queryset, change, f"moved to {plan_code}:")


@admin.register(Licensee)
class LicenseeAdmin(admin.ModelAdmin):
    list_display = ("slug", "display_name", "status", "currency", "created_at", "terminated_at")
    list_filter = ("status", "currency")
    search_fields = ("slug", "display_name")
    readonly_fields: ClassVar[tuple[str, ...]] = (
        "schema_name",
        "slug",
        "status",
        "created_at",
        "terminated_at",
    )
    inlines = [DomainInline]
    actions = [suspend, reactivate, terminate, change_plan]
    action_form = PlanActionForm

    def has_add_permission(self, request):
        return False  # licensees are provisioned by sign-up or `callrix licensee create`

    def has_delete_permission(self, request, obj=None):
        # A licensee's schema is dropped by the retention job after termination, never here.
        return False
