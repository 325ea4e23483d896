from django.apps import AppConfig


class CallrixComplianceConfig(AppConfig):
    """Callrix's side, as controller of its licensees' account data: the processing
    register, retention of public data, the final export offered at termination."""

    name = "compliance.callrix"
    label = "compliance_callrix"
    verbose_name = "Callrix compliance"

    def ready(self) -> None:
        from compliance.callrix import receivers  # noqa: F401  (final export on termination)
