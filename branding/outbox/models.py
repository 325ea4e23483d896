"""Mail that could not go out the normal way (queued, then sent by a job), kept in the schema
it was written in (a licensee's mail to its people stays in its schema)."""

from __future__ import annotations

from django.db import models


class UndeliveredMail(models.Model):
    class Status(models.TextChoices):
        # The job queue did not take it (Redis down): the sweeper queues it again.
        UNQUEUED = "unqueued"
        # Every delivery attempt failed: the dead letter, kept for an operator to look at.
        DEAD = "dead"
        REQUEUED = "requeued"

    status = models.CharField(max_length=10, choices=Status.choices)
    # The message as `branding.outbox.wire` writes it (subject, bodies, sender, recipients).
    message = models.JSONField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"mail {self.pk} ({self.status})"
