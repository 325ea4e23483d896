from __future__ import annotations

from shared_apps.usage.models import AdminLogin


def admin_login_record(*, licensee_id: int, account_ref: int, role: str, channel: str) -> None:
    AdminLogin.objects.create(
        licensee_id=licensee_id, account_ref=account_ref, role=role, channel=channel
    )
