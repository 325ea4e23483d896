"""Licensee account holders in the staff admin: staff correct them on request (GDPR Art. 16);
Django's LogEntry records each change."""

from django.contrib import admin

from shared_apps.accounts.models import AccountHolder


@admin.register(AccountHolder)
class AccountHolderAdmin(admin.ModelAdmin):
    list_display = ("full_name", "company", "user", "licensee", "billing_country", "created_at")
    list_filter = ("billing_country",)
    search_fields = ("full_name", "company", "user__email", "licensee__slug")
    readonly_fields = ("user", "licensee", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False  # account holders come from sign-up

    def has_delete_permission(self, request, obj=None):
        return False  # erasure follows the retention rules (compliance), not a click
