from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "shared_apps.usage"
    label = "usage"
    verbose_name = "Licensee usage"
