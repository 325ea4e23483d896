from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "shared_apps.privacy"
    label = "privacy"
    verbose_name = "Callrix privacy policy"
