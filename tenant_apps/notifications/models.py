"""Users' devices (FCM tokens), the licensee's own Firebase project, and a log of pushes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Device(models.Model):
    class Platform(models.TextChoices):
        ANDROID = "android"
        IOS = "ios"
        WEB = "web"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="devices"
    )
    token = models.CharField(max_length=4096, unique=True)
    platform = models.CharField(max_length=8, choices=Platform.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.platform} device of {self.user_id}"


class FirebaseProject(models.Model):
    """The licensee's Firebase service account (encrypted); at most one row per schema.
    Without it, pushes go through Callrix's default project."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    project_id = models.CharField(max_length=255)
    credentials_encrypted = models.TextField()
    updated_by_id = models.BigIntegerField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="firebase_project_singleton", condition=Q(singleton=True))
        ]

    def __str__(self) -> str:
        return self.project_id


class PushLog(models.Model):
    """What was pushed to whom and how it went (kept for the user's own data export)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="push_log"
    )
    kind = models.CharField(max_length=40)
    status = models.CharField(max_length=16)
    devices = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.user_id}: {self.status}"
