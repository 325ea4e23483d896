"""A job written with the business operation that wants it, in that operation's schema
(a licensee's jobs stay in its schema, Callrix's in public), until the job queue took it."""

from __future__ import annotations

from django.db import models


class PendingJob(models.Model):
    actor_name = models.CharField(max_length=200)
    # The actor's positional arguments, as the queue's JSON message carries them.
    args = models.JSONField(default=list)
    # When the job is due (a delayed job); null: at once.
    due_at = models.DateTimeField(null=True, blank=True)
    # After this the job is worth nothing (a ring for a call long over) and is dropped unsent.
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.actor_name} (pending job {self.pk})"
