from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "tenant_apps.payouts"
    label = "payouts"
    verbose_name = "Advisor payouts"
