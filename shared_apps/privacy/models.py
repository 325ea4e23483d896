"""Callrix's own privacy policy, version by version (public schema; Callrix is the controller),
and the notices of its material changes sent to licensee account holders (policy §12)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

MATERIAL_NOTICE_DAYS = 30


class PolicyVersion(models.Model):
    """One version of the privacy policy. A draft (no `published_at`) can still change; a
    published version is a record and never changes."""

    version = models.CharField(max_length=20, unique=True)
    effective_on = models.DateField()
    summary = models.TextField(max_length=5_000, help_text="What changed, for the notice.")
    material = models.BooleanField(
        default=False,
        help_text="Changes how personal data is processed: account holders are e-mailed "
        f"at least {MATERIAL_NOTICE_DAYS} days before it takes effect.",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The last line of defence for policy §12: a published material change takes
            # effect 30 days after publishing at the earliest (the service says it nicely).
            models.CheckConstraint(
                name="policy_material_change_noticed_30_days",
                condition=Q(published_at__isnull=True)
                | Q(material=False)
                | Q(effective_on__gte=F("published_at__date") + MATERIAL_NOTICE_DAYS),
            ),
            models.CheckConstraint(
                name="policy_version_format", condition=Q(version__regex=r"^[0-9A-Za-z.-]+$")
            ),
        ]
        ordering = ["-effective_on", "-published_at"]

    def __str__(self) -> str:
        return f"version {self.version} (effective {self.effective_on:%Y-%m-%d})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class PolicyChangeNotice(models.Model):
    """One account holder told of one material change: the job's idempotency record (a rerun
    e-mails nobody twice) and the proof that the notice went out."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="notices")
    # Erasing an account holder erases their notices too: the version keeps the count.
    account_holder = models.ForeignKey(
        "accounts.AccountHolder", on_delete=models.CASCADE, related_name="policy_notices"
    )
    email = models.EmailField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "account_holder"], name="policy_notice_once_per_holder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version_id} -> {self.account_holder_id}"
