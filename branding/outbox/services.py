"""Every e-mail goes through the job queue: a request only queues it (and never fails
because mail did); a job sends it through the real transport (`MAIL_TRANSPORT_BACKEND`),
retried with back-off; one that fails every attempt becomes a dead letter; one the queue
would not take (Redis down) waits in the database for the sweeper."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import get_connection

from branding.outbox.models import UndeliveredMail
from branding.outbox.wire import message_load
from kernel.outage import REDIS_DOWN
from kernel.tenant_connection import connection

logger = logging.getLogger(__name__)


def mail_enqueue(data: dict[str, Any]) -> None:
    from branding.outbox.tasks import mail_deliver

    try:
        mail_deliver.send(data)
    except REDIS_DOWN as error:
        logger.warning("Mail not queued (%s); kept for the sweeper", error)
        UndeliveredMail.objects.create(
            status=UndeliveredMail.Status.UNQUEUED, message=data, last_error=str(error)[:500]
        )


def mail_deliver(data: dict[str, Any], *, attempt: int, last_attempt: bool) -> str:
    """Send one queued e-mail. Raises to be retried; on the last attempt, records the dead
    letter instead."""
    try:
        get_connection(settings.MAIL_TRANSPORT_BACKEND, fail_silently=False).send_messages(
            [message_load(data)]
        )
    except Exception as error:  # SMTP, DNS, TLS, refused recipients: all worth a retry
        if not last_attempt:
            raise
        logger.error("Mail to %d recipient(s) given up: %s", len(data["to"]), error)
        UndeliveredMail.objects.create(
            status=UndeliveredMail.Status.DEAD,
            message=data,
            attempts=attempt + 1,
            last_error=str(error)[:500],
        )
        return "dead"
    return "sent"


def mail_unqueued_requeue() -> int:
    """Queue again what the job queue would not take while Redis was down."""
    requeued = 0
    for row in UndeliveredMail.objects.filter(status=UndeliveredMail.Status.UNQUEUED).order_by(
        "pk"
    ):
        from branding.outbox.tasks import mail_deliver

        mail_deliver.send(row.message)
        row.status = UndeliveredMail.Status.REQUEUED
        row.save(update_fields=["status", "updated_at"])
        requeued += 1
    if requeued:
        logger.info("%s: %d unqueued mail(s) queued again", connection.schema_name, requeued)
    return requeued
