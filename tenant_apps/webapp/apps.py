from django.apps import AppConfig


class WebAppConfig(AppConfig):
    name = "tenant_apps.webapp"
    label = "webapp"
    verbose_name = "End-user web app and advisor console"
