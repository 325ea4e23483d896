from django.apps import AppConfig


class WalletsConfig(AppConfig):
    name = "tenant_apps.wallets"
    label = "wallets"
    verbose_name = "Wallets and ledger"
