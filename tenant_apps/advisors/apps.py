from django.apps import AppConfig


class AdvisorsConfig(AppConfig):
    name = "tenant_apps.advisors"
    label = "advisors"
    verbose_name = "Advisors"
