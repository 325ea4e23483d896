"""Licensees (one PostgreSQL schema each), their domains, and the warm pool of spare schemas."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin

TERMINATED_DATA_RETENTION_DAYS = 30


class Licensee(TenantMixin):
    """A business renting a branded platform. Its schema holds everything its users create."""

    class Status(models.TextChoices):
        TRIAL = "trial"
        ACTIVE = "active"
        PAST_DUE = "past_due"
        SUSPENDED = "suspended"
        TERMINATED = "terminated"

    slug = models.CharField(max_length=40, unique=True)
    display_name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRIAL)
    currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField(auto_now_add=True)
    terminated_at = models.DateTimeField(null=True, blank=True)

    # Schemas are created by `tenants.provisioning` (warm pool or fresh), never by save().
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="licensee_slug_format",
                condition=Q(slug__regex=r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"),
            ),
            # The schema is the slug with hyphens as underscores (PostgreSQL identifiers).
            models.CheckConstraint(
                name="licensee_schema_is_slug",
                condition=Q(
                    schema_name=Func(F("slug"), Value("-"), Value("_"), function="replace")
                ),
            ),
            models.CheckConstraint(
                name="licensee_currency_iso4217", condition=Q(currency__regex=r"^[A-Z]{3}$")
            ),
            models.CheckConstraint(
                name="licensee_status_valid",
                condition=Q(status__in=["trial", "active", "past_due", "suspended", "terminated"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.slug})"

    @property
    def serves_requests(self) -> bool:
        return self.status not in (self.Status.SUSPENDED, self.Status.TERMINATED)

    @property
    def data_retained_until(self) -> datetime | None:
        """After termination the schema is kept this long for a final export, then the
        retention job drops it (privacy policy §7); invoices stay in the public schema."""
        if self.terminated_at is None:
            return None
        return self.terminated_at + timedelta(days=TERMINATED_DATA_RETENTION_DAYS)


class Domain(DomainMixin):
    """A host name that routes to a licensee: its primary `{slug}.{BASE_DOMAIN}`, verified by
    construction, or a custom domain, which routes only once a DNS TXT record proved that the
    licensee controls it (`tenants.domains`)."""

    VERIFY_LABEL = "_callrix-verify"

    verified_at = models.DateTimeField(null=True, blank=True)
    verification_token = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="domain_primary_is_verified",
                condition=Q(verified_at__isnull=False) | Q(is_primary=False),
            ),
            models.CheckConstraint(name="domain_lowercase", condition=Q(domain=Lower("domain"))),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def txt_record_name(self) -> str:
        return f"{self.VERIFY_LABEL}.{self.domain}"

    @property
    def txt_record_value(self) -> str:
        return f"callrix-verify={self.verification_token}"


class SpareSchema(models.Model):
    """A fully migrated, empty tenant schema waiting to be renamed into a new licensee's."""

    schema_name = models.CharField(max_length=63, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="spare_schema_prefix", condition=Q(schema_name__startswith="spare_")
            )
        ]

    def __str__(self) -> str:
        return self.schema_name
