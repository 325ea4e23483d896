from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shared_apps.usage.models import AdminActionCount, AdminLogin


def admin_login_record(*, licensee_id: int, account_ref: int, role: str, channel: str) -> None:
    AdminLogin.objects.create(
        licensee_id=licensee_id, account_ref=account_ref, role=role, channel=channel
    )


def admin_action_count(*, licensee_id: int, action: str) -> None:
    """Add one to today's count of this action (an upsert: concurrent actions never lose one)."""
    day = timezone.now().date()
    with transaction.atomic():
        updated = AdminActionCount.objects.filter(
            licensee_id=licensee_id, day=day, action=action
        ).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    AdminActionCount.objects.create(
                        licensee_id=licensee_id, day=day, action=action, count=1
                    )
            except IntegrityError:  # another process created today's row first
                AdminActionCount.objects.filter(
                    licensee_id=licensee_id, day=day, action=action
                ).update(count=F("count") + 1)
