"""Staff write drafts of the privacy policy here and publish them with the action; a
published version is a record and is read-only."""

from __future__ import annotations

from django.contrib import admin, messages

from kernel.errors import DomainError
from shared_apps.billing.admin import ReadOnlyAdmin
from shared_apps.privacy import services
from shared_apps.privacy.models import PolicyChangeNotice, PolicyVersion


@admin.action(description="Publish (a material change e-mails every account holder)")
def publish(modeladmin, request, queryset):
    for draft in queryset.filter(published_at__isnull=True):
        try:
            published = services.policy_publish(
                version=draft.version,
                effective_on=draft.effective_on,
                summary=draft.summary,
                material=draft.material,
            )
        except DomainError as error:
            modeladmin.message_user(request, f"{draft.version}: {error.detail}", messages.ERROR)
            continue
        modeladmin.log_change(request, published, "Published by staff.")
        modeladmin.message_user(request, f"Published version {published.version}.")


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "effective_on", "material", "published_at", "notices_sent")
    list_filter = ("material",)
    actions = [publish]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return ("version", "effective_on", "summary", "material", "published_at")
        return ("published_at",)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    @admin.display(description="notices sent")
    def notices_sent(self, obj):
        return obj.notices.count()


@admin.register(PolicyChangeNotice)
class PolicyChangeNoticeAdmin(ReadOnlyAdmin):
    """Written by the notice job: the proof that each account holder was told."""

    list_display = ("version", "email", "sent_at")
    list_filter = ("version",)
