from django.apps import AppConfig


class WalletsConfig(AppConfig):
    name = "tenant_apps.wallets"
    label = "wallets"
    verbose_name = "Wallets and ledger"

    def ready(self) -> None:
        from tenant_apps.wallets.selectors import callrix_fee_minor
        from tenants.bridge import figure_reader_register

        figure_reader_register("callrix_fee_minor", callrix_fee_minor)
