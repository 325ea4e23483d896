from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "tenant_apps.calls"
    label = "calls"
    verbose_name = "Calls"
