from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "tenant_apps.calls"
    label = "calls"
    verbose_name = "Calls"

    def ready(self) -> None:
        from tenant_apps.calls.usage_figures import usage_day_counts
        from tenants.bridge import figure_reader_register

        figure_reader_register("usage_day_counts", usage_day_counts)
