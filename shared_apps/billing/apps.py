from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "shared_apps.billing"
    label = "billing"
    verbose_name = "Licensee billing"

    def ready(self) -> None:
        from shared_apps.billing import receivers  # noqa: F401  (the nightly ledger check)
        from shared_apps.billing.overage_selectors import plan_usage
        from shared_apps.billing.selectors import licensee_terms_at, payouts_pause_reason
        from tenants.hooks import (
            payouts_pause_reader_register,
            plan_usage_reader_register,
            terms_reader_register,
        )

        # Tenant apps read the fee and limits in force, and whether payouts are paused,
        # through `tenants.bridge`.
        terms_reader_register(licensee_terms_at)
        payouts_pause_reader_register(payouts_pause_reason)
        plan_usage_reader_register(plan_usage)
