"""Exports of a licensee's whole tenant (its data portability as controller). The table
lives in each licensee's schema: an export is the licensee's own record."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

OPEN_STATUSES = ["queued", "running"]


class TenantExport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        READY = "ready"
        FAILED = "failed"
        EXPIRED = "expired"

    requested_by_id = models.BigIntegerField()  # the admin or owner, in this schema
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # A random name in the schema's private export folder; never derived from the id.
    file_name = models.CharField(max_length=80, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)  # of the ZIP, to check a download
    table_count = models.PositiveIntegerField(default=0)
    row_count = models.BigIntegerField(default=0)
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One export at a time per licensee: the database settles a double click.
            models.UniqueConstraint(
                models.Value(True),
                condition=Q(status__in=OPEN_STATUSES),
                name="tenant_export_one_open",
            ),
            models.CheckConstraint(
                name="tenant_export_status_valid",
                condition=Q(status__in=["queued", "running", "ready", "failed", "expired"]),
            ),
            models.CheckConstraint(
                name="tenant_export_ready_has_file",
                condition=~Q(status="ready")
                | (~Q(file_name="") & Q(expires_at__isnull=False) & Q(size_bytes__isnull=False)),
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"
