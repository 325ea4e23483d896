from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """The licensee's side: it is its end users' controller. Tenant exports, end users'
    rights, the request log. Never reads a public-schema model (import contract)."""

    name = "compliance.licensee"
    label = "compliance"
    verbose_name = "Compliance"
