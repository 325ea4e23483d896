"""A licensee admin's sign-in and dashboard actions (tenant schema) become usage data
in the public schema, carrying only the licensee, the account's id and its role, or the
action's name and a count."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django_tenants.utils import schema_context

from shared_apps.usage.services import admin_action_count, admin_login_record
from tenants.hooks import admin_action_committed

ADMIN_ROLES = ("admin", "owner")


@receiver(user_logged_in)
def licensee_admin_signed_in(sender, request, user, **kwargs) -> None:
    tenant = getattr(request, "tenant", None)
    licensee_id = getattr(tenant, "pk", None)
    if licensee_id is None or getattr(user, "role", None) not in ADMIN_ROLES:
        return
    channel = "api" if request.path.startswith("/api/") else "session"
    with schema_context("public"):
        admin_login_record(
            licensee_id=licensee_id, account_ref=user.pk, role=user.role, channel=channel
        )


@receiver(admin_action_committed)
def licensee_admin_acted(sender, licensee_id: int, action: str, **kwargs) -> None:
    with schema_context("public"):
        admin_action_count(licensee_id=licensee_id, action=action)
