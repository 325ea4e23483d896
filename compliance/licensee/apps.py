from django.apps import AppConfig

from tenant_apps.dashboard import contributions


class ComplianceConfig(AppConfig):
    """The licensee's side: it is its end users' controller. Tenant exports, end users'
    rights, the request log. Never reads a public-schema model (import contract)."""

    name = "compliance.licensee"
    label = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        # The dashboard's own pages lead to this app's dashboard pages (`.dashboard`).
        contributions.contribution_add(
            slot=contributions.MENU, template="dashboard/_menu_exports.html"
        )
        contributions.contribution_add(
            slot=contributions.END_USER, template="dashboard/_end_user_rights.html"
        )
