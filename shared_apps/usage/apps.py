from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "shared_apps.usage"
    label = "usage"
    verbose_name = "Licensee usage"

    def ready(self) -> None:
        from shared_apps.usage import receivers  # noqa: F401  (admins' sign-ins and actions)
