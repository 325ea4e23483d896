"""The demo's outgoing mail: each message a `.eml` file in `.callrix/mail/` (open it with any
mail program) instead of pages of e-mail in the console; `callrix sandbox mail` lists them."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone

from callrix import embedded

BACKEND = "demo.mailbox.MailFolderBackend"
_sequence = itertools.count()


def mail_folder() -> Path:
    folder = embedded.home() / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def use_mail_folder() -> None:
    """For this process and the web server and worker it starts, unless EMAIL_BACKEND says
    otherwise."""
    if os.environ.get("EMAIL_BACKEND"):
        return
    # Mail stays queued (branding.outbox); the job's transport writes the files.
    os.environ["EMAIL_BACKEND"] = settings.MAIL_TRANSPORT_BACKEND = BACKEND


class MailFolderBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = mail_folder()
        sent = 0
        for message in email_messages:
            subject = re.sub(r"[^A-Za-z0-9]+", "-", str(message.subject)).strip("-")[:50] or "mail"
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            name = f"{stamp}-{os.getpid()}-{next(_sequence):04d}-{subject}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
            sent += 1
        return sent


@dataclass(frozen=True)
class StoredMail:
    path: Path
    sender: str
    to: str
    subject: str


def mail_list(limit: int = 20) -> list[StoredMail]:
    """The newest messages first."""
    found = sorted(mail_folder().glob("*.eml"), key=lambda path: path.name, reverse=True)
    listed = []
    for path in found[:limit]:
        parsed = message_from_bytes(path.read_bytes(), policy=default_policy)
        listed.append(
            StoredMail(
                path=path,
                sender=str(parsed["From"] or ""),
                to=str(parsed["To"] or ""),
                subject=str(parsed["Subject"] or ""),
            )
        )
    return listed
