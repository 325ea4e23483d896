from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Licensees"

    def ready(self) -> None:
        from tenants import signals  # noqa: F401  (receivers: the host cache)
