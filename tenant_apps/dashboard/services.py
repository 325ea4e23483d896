from __future__ import annotations

from django.db import transaction

from identity.models import User
from kernel.tenant_connection import connection
from tenant_apps.dashboard.models import AuditEntry
from tenants.bridge import admin_action_committed


def audit_record(
    *, actor: User, action: str, target: str = "", details: dict | None = None
) -> AuditEntry:
    """Record an admin action in the licensee's audit trail. Call it inside the action's own
    transaction, so that an action is recorded exactly when it happened."""
    entry = AuditEntry.objects.create(
        actor=actor, action=action, target=target[:200], details=details or {}
    )
    licensee_id = getattr(connection.tenant, "pk", None)
    if licensee_id is not None:
        transaction.on_commit(
            lambda: admin_action_committed.send(
                sender=AuditEntry, licensee_id=licensee_id, action=action
            )
        )
    return entry
