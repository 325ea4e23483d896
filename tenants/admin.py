"""The staff admin's view of licensees (public host only)."""

from django.contrib import admin

from tenants.models import Domain, Licensee, SpareSchema


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Licensee)
class LicenseeAdmin(admin.ModelAdmin):
    list_display = ("slug", "display_name", "status", "currency", "created_at", "terminated_at")
    list_filter = ("status", "currency")
    search_fields = ("slug", "display_name")
    readonly_fields = ("schema_name", "slug", "created_at", "terminated_at")
    inlines = [DomainInline]

    def has_delete_permission(self, request, obj=None):
        # A licensee's schema is dropped by the retention job after termination, never here.
        return False


@admin.register(SpareSchema)
class SpareSchemaAdmin(admin.ModelAdmin):
    list_display = ("schema_name", "created_at")

    def has_add_permission(self, request):
        return False
