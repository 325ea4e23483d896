"""Exports of a licensee's whole tenant (its data portability as controller). The table
lives in each licensee's schema: an export is the licensee's own record."""

from __future__ import annotations

from django.conf import settings
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


PRIVACY_REQUEST_DAYS = 30  # GDPR Art. 12(3): an answer within one month of receipt


class PrivacyRequest(models.Model):
    """The licensee's log of data-subject requests (it is the controller of its end users'
    data): what was asked, by whom, when it is due and how it ended. Self-service actions
    log themselves; requests received by e-mail are entered by an admin."""

    class Type(models.TextChoices):
        ACCESS = "access"
        ERASURE = "erasure"
        RECTIFICATION = "rectification"
        RESTRICTION = "restriction"
        OBJECTION = "objection"
        PORTABILITY = "portability"

    class Channel(models.TextChoices):
        SELF_SERVICE = "self_service"  # the person used the API themselves
        EMAIL = "email"  # received by e-mail, entered by an admin
        ADMIN = "admin"  # the licensee acted on its own knowledge (e.g. a minor's account)
        STAFF = "staff"  # Callrix staff acted for the licensee

    class Outcome(models.TextChoices):
        FULFILLED = "fulfilled"
        REFUSED = "refused"

    type = models.CharField(max_length=16, choices=Type.choices)
    # DO_NOTHING: see payments.TopUp.user. Empty when nobody here has the address given.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="privacy_requests",
    )
    # The address the request came from, as given; replaced by the pseudonym on erasure.
    subject_email = models.CharField(max_length=254, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    notes = models.TextField(blank=True, max_length=4_000)
    logged_by_id = models.BigIntegerField(null=True, blank=True)  # the admin, in this schema
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="privacy_request_type_valid",
                condition=Q(
                    type__in=[
                        "access",
                        "erasure",
                        "rectification",
                        "restriction",
                        "objection",
                        "portability",
                    ]
                ),
            ),
            models.CheckConstraint(
                name="privacy_request_channel_valid",
                condition=Q(channel__in=["self_service", "email", "admin", "staff"]),
            ),
            models.CheckConstraint(
                name="privacy_request_due_after_receipt",
                condition=Q(due_at__gte=models.F("received_at")),
            ),
            models.CheckConstraint(
                name="privacy_request_completed_has_outcome",
                condition=(Q(completed_at__isnull=True) & Q(outcome=""))
                | (Q(completed_at__isnull=False) & Q(outcome__in=["fulfilled", "refused"])),
            ),
        ]
        indexes = [models.Index(fields=["completed_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.type} request {self.pk}"
