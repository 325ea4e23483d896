from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "tenant_apps.payouts"
    label = "payouts"
    verbose_name = "Advisor payouts"

    def ready(self) -> None:
        from tenant_apps.payments.connect_events import connect_event_handler_register
        from tenant_apps.payouts import services

        connect_event_handler_register(
            "account.updated",
            lambda account, event: services.payout_account_sync(
                account=account, occurred_at=event.get("created")
            ),
        )
        connect_event_handler_register(
            "transfer.reversed",
            lambda transfer, event: services.payout_transfer_reversed(transfer=transfer),
        )
