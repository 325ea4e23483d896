from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Licensees"

    def ready(self) -> None:
        from tenants import signals, usage  # noqa: F401  (receivers: host cache, usage data)
