from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "tenant_apps.payouts"
    label = "payouts"
    verbose_name = "Advisor payouts"

    def ready(self) -> None:
        from tenant_apps.payments.connect_events import (
            connected_account_handler_register,
            platform_event_handler_register,
        )
        from tenant_apps.payouts import services

        connected_account_handler_register(
            "account.updated",
            lambda account, event: services.payout_account_sync(
                account_id=str(event.get("account") or ""),
                account=account,
                occurred_at=event.get("created"),
            ),
        )
        platform_event_handler_register(
            "transfer.reversed",
            lambda transfer, event: services.payout_transfer_reversed(transfer=transfer),
        )
