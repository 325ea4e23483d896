"""Reads of the privacy policy's versions (public schema)."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django_tenants.utils import schema_context

from shared_apps.privacy.models import PolicyVersion


def policy_published() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(published_at__isnull=False)


def policy_current(*, today: date) -> PolicyVersion | None:
    """The version in force today: the published one that took effect last."""
    with schema_context("public"):
        return (
            policy_published()
            .filter(effective_on__lte=today)
            .order_by("-effective_on", "-published_at")
            .first()
        )


def policy_upcoming(*, today: date) -> list[PolicyVersion]:
    """Published versions that take effect later, soonest first."""
    with schema_context("public"):
        return list(policy_published().filter(effective_on__gt=today).order_by("effective_on"))
