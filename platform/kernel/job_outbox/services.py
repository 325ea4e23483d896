"""Queue a job with the transaction that wants it (the transactional outbox).

`job_send_on_commit` writes the job in the current transaction and sends it to dramatiq once
that commits, deleting the row when the queue took it. When Redis does not answer, the row
stays and `jobs_pending_flush` (a periodic sweep, per schema) sends it when Redis is back: a
request that saved its data also saved its jobs, and answers as if the queue had taken them.
Delivery stays at least once (a job sent just before its row was deleted may be sent again by
the sweep), as every actor already assumes.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import dramatiq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from dramatiq.errors import ActorNotFound

from kernel.job_outbox.models import PendingJob
from kernel.outage import REDIS_DOWN

logger = logging.getLogger(__name__)


def job_send_on_commit(
    actor: dramatiq.Actor[..., Any],
    *args: Any,
    delay_ms: int | None = None,
    expires_in_seconds: float | None = None,
) -> None:
    """Queue `actor(*args)` (after `delay_ms`) once the current transaction commits; kept in
    the database until the queue takes it. `expires_in_seconds`: a job not sent by then is
    dropped (worth nothing late)."""
    now = timezone.now()
    row = PendingJob.objects.create(
        actor_name=actor.actor_name,
        args=list(args),
        due_at=now + timedelta(milliseconds=delay_ms) if delay_ms else None,
        expires_at=now + timedelta(seconds=expires_in_seconds) if expires_in_seconds else None,
    )
    transaction.on_commit(lambda: _send(row))


def _send(row: PendingJob) -> bool:
    """Hand one pending job to the queue and forget it; False when the queue is down."""
    now = timezone.now()
    if row.expires_at is not None and row.expires_at <= now:
        PendingJob.objects.filter(pk=row.pk).delete()
        return False
    delay = int((row.due_at - now).total_seconds() * 1000) if row.due_at else 0
    actor = dramatiq.get_broker().get_actor(row.actor_name)
    try:
        actor.send_with_options(args=tuple(row.args), delay=delay if delay > 0 else None)
    except REDIS_DOWN as error:
        logger.warning("Job %s not queued (%s); kept for the sweep", row.actor_name, error)
        return False
    PendingJob.objects.filter(pk=row.pk).delete()
    return True


def jobs_pending_flush(*, older_than_seconds: float | None = None) -> int:
    """Send the current schema's jobs the queue did not take when they were written. Stops at
    the first refusal (Redis still down): the rest wait for the next sweep. Jobs younger than
    `JOB_OUTBOX_SWEEP_AFTER_SECONDS` are left to the process that is about to send them."""
    if older_than_seconds is None:
        older_than_seconds = settings.JOB_OUTBOX_SWEEP_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    sent = 0
    for row in PendingJob.objects.filter(created_at__lte=cutoff).order_by("pk"):
        if row.expires_at is not None and row.expires_at <= timezone.now():
            PendingJob.objects.filter(pk=row.pk).delete()
            continue
        try:
            if not _send(row):
                break
        except ActorNotFound:  # a process without that app's tasks: kept for one with them
            logger.error("Pending job names no actor %r known here; kept", row.actor_name)
            continue
        sent += 1
    return sent
