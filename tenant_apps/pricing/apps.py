from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "tenant_apps.pricing"
    label = "pricing"
    verbose_name = "Pricing and billing policy"
