"""The e-mail backend every part of Callrix sends through (EMAIL_BACKEND): it only queues."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from branding.outbox.services import mail_enqueue
from branding.outbox.wire import message_dump


class QueuedEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            mail_enqueue(message_dump(message))
        return len(email_messages)
