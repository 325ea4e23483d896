from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "tenant_apps.pricing"
    label = "pricing"
    verbose_name = "Pricing and billing policy"

    def ready(self) -> None:
        from tenant_apps.pricing import receivers  # noqa: F401  (the plan's terms)
