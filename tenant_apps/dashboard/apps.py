from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "tenant_apps.dashboard"
    label = "dashboard"
    verbose_name = "Licensee dashboard"
    default_auto_field = "django.db.models.BigAutoField"
