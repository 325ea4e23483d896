"""Licensees (one PostgreSQL schema each), their domains, and the warm pool of spare schemas."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Func, Q, Value
from django_tenants.models import DomainMixin, TenantMixin


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


class Domain(DomainMixin):
    """A host name that routes to a licensee (`{slug}.{BASE_DOMAIN}` or a custom domain)."""

    def __str__(self) -> str:
        return self.domain


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
