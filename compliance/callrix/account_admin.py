"""Licensee account holders in the staff admin: staff correct them on request (GDPR Art. 16),
hand over their data (Art. 15/20) and erase them (Art. 17) — by the same services as the
holders' own endpoints; Django's LogEntry records each change."""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.template.response import TemplateResponse

from compliance.callrix import account_rights as services
from compliance.callrix import account_selectors as selectors
from kernel.errors import DomainError
from shared_apps.accounts.models import AccountHolder


@admin.action(description="Download the account holder's data (JSON)")
def export_data(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Choose exactly one account holder.", messages.ERROR)
        return None
    holder = queryset.select_related("user", "licensee").get()
    body = json.dumps(selectors.account_holder_export(holder=holder), indent=2)
    modeladmin.log_change(request, holder, "Data exported by staff.")
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="account-holder-{holder.pk}.json"'
    return response


@admin.action(description="Erase (only once the licensee is terminated; invoices stay)")
def erase(modeladmin, request, queryset):
    # Irreversible, so it asks once more, as Django's own delete action does.
    if request.POST.get("confirm") != "yes":
        return TemplateResponse(
            request,
            "admin/accounts/accountholder/erase_confirmation.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Erase account holders?",
                "holders": queryset,
                "opts": modeladmin.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )
    erased = 0
    for holder in queryset.select_related("user", "licensee"):
        label = f"account holder {holder.pk}"
        try:
            services.account_holder_erase(holder=holder, password=None)
        except DomainError as error:
            modeladmin.message_user(request, f"{label}: {error.detail}", messages.ERROR)
            continue
        LogEntry.objects.create(
            user=request.user,
            content_type=ContentType.objects.get_for_model(AccountHolder),
            object_id=str(holder.pk),
            object_repr=f"erased {label}",
            action_flag=DELETION,
            change_message="Erased by staff.",
        )
        erased += 1
    if erased:
        modeladmin.message_user(request, f"Erased {erased} account holder(s).")
    return None


@admin.register(AccountHolder)
class AccountHolderAdmin(admin.ModelAdmin):
    list_display = ("full_name", "company", "user", "licensee", "billing_country", "created_at")
    list_filter = ("billing_country",)
    search_fields = ("full_name", "company", "user__email", "licensee__slug")
    readonly_fields = ("user", "licensee", "created_at", "updated_at")
    actions = [export_data, erase]

    def has_add_permission(self, request):
        return False  # account holders come from sign-up

    def has_delete_permission(self, request, obj=None):
        # Erasure is the action above (its rules, its pseudonymised log), never a plain delete.
        return False
