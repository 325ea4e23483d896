from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "shared_apps.billing"
    label = "billing"
    verbose_name = "Licensee billing"

    def ready(self) -> None:
        from shared_apps.billing.selectors import licensee_terms_at
        from tenants.hooks import terms_reader_register

        # Tenant apps read the fee and limits in force through `tenants.bridge`.
        terms_reader_register(licensee_terms_at)
