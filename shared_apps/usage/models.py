"""Usage data Callrix keeps as controller (privacy policy §2.3): numbers and licensee staff
activity, never anything that identifies a licensee's end users."""

from __future__ import annotations

from django.db import models


class AdminLogin(models.Model):
    """A sign-in of a licensee's admin or owner. `account_ref` is the account's id inside
    the licensee's schema — a reference, not personal data copied out of it."""

    licensee = models.ForeignKey(
        "tenants.Licensee", on_delete=models.CASCADE, related_name="admin_logins"
    )
    account_ref = models.BigIntegerField()
    role = models.CharField(max_length=16)
    channel = models.CharField(max_length=16)  # "api" or "session"
    logged_in_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["licensee", "-logged_in_at"])]

    def __str__(self) -> str:
        return f"{self.licensee_id}:{self.account_ref} at {self.logged_in_at:%Y-%m-%d %H:%M}"


class AdminActionCount(models.Model):
    """How often a licensee's admins took each kind of dashboard action on a day: a count per
    action name, nothing about who did it or to whom (that stays in the licensee's audit
    trail, in its own schema)."""

    licensee = models.ForeignKey(
        "tenants.Licensee", on_delete=models.CASCADE, related_name="admin_action_counts"
    )
    day = models.DateField()
    action = models.CharField(max_length=60)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["licensee", "day", "action"], name="admin_action_count_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.licensee_id} {self.day} {self.action}: {self.count}"
