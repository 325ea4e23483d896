from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "tenant_apps.calls"
    label = "calls"
    verbose_name = "Calls"

    def ready(self) -> None:
        from tenant_apps.calls.selectors import call_advisor_names
        from tenant_apps.calls.usage_figures import usage_day_counts
        from tenant_apps.wallets.history import call_names_reader_register
        from tenants.bridge import figure_reader_register

        figure_reader_register("usage_day_counts", usage_day_counts)
        call_names_reader_register(call_advisor_names)
