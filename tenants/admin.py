"""The staff admin's view of the warm pool of spare schemas (public host only)."""

from django.contrib import admin

from tenants.models import SpareSchema


@admin.register(SpareSchema)
class SpareSchemaAdmin(admin.ModelAdmin):
    list_display = ("schema_name", "created_at")

    def has_add_permission(self, request):
        return False
