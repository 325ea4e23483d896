"""Every e-mail goes through the job queue: the request only queues it, a job sends it with
retries, a mail that fails every attempt becomes a dead letter in the schema it was written
in, and one the queue would not take (Redis down) waits for the sweeper."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django_tenants.utils import schema_context

from branding.outbox import services
from branding.outbox.models import UndeliveredMail
from branding.outbox.wire import message_dump

pytestmark = pytest.mark.django_db

REFUSING_SMTP = "tests.branding.test_mail_outbox.RefusingSmtp"


class RefusingSmtp:
    """An SMTP relay that refuses every message (as a real one does when it is down)."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("relay refused the connection")


@pytest.fixture
def queued(settings):
    settings.EMAIL_BACKEND = "branding.outbox.backend.QueuedEmailBackend"
    settings.MAIL_TRANSPORT_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _message(to: str = "casey@example.test") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        "Your receipt", "Thank you.", "Alpha <no-reply@example.test>", [to], reply_to=["s@a.test"]
    )
    message.attach_alternative("<p>Thank you.</p>", "text/html")
    return message


def test_a_request_that_sends_mail_only_queues_it(
    api, alpha, queued, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_TRANSPORT_BACKEND = REFUSING_SMTP  # the relay is down: nobody notices
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api("alpha").post(
            "/api/v1/auth/register",
            {
                "email": "new@example.test",
                "password": "Velvet-Compass-2031",
                "birth_date": "1990-01-01",
                "display_name": "New",
            },
        )
    assert response.status_code == 201, response.content
    assert callbacks  # the verification mail was sent after commit: queued, not sent
    assert mail.outbox == []
    connection.set_tenant(alpha)
    assert not UndeliveredMail.objects.exists()


def test_the_job_sends_through_the_transport_and_keeps_every_part(queued):
    data = message_dump(_message())
    assert services.mail_deliver(data, attempt=0, last_attempt=False) == "sent"
    sent = mail.outbox[0]
    assert (sent.subject, sent.to, sent.reply_to) == (
        "Your receipt",
        ["casey@example.test"],
        ["s@a.test"],
    )
    assert sent.alternatives[0][1] == "text/html"


def test_a_mail_that_fails_is_retried_and_the_last_failure_is_a_dead_letter(
    alpha, queued, settings
):
    settings.MAIL_TRANSPORT_BACKEND = REFUSING_SMTP
    data = message_dump(_message())
    connection.set_tenant(alpha)
    with pytest.raises(ConnectionRefusedError):
        services.mail_deliver(data, attempt=0, last_attempt=False)  # the job retries it
    assert services.mail_deliver(data, attempt=8, last_attempt=True) == "dead"
    dead = UndeliveredMail.objects.get()
    assert (dead.status, dead.attempts, dead.message["to"]) == ("dead", 9, ["casey@example.test"])
    assert "refused" in dead.last_error
    with schema_context("public"):  # a licensee's people's addresses stay in its schema
        assert not UndeliveredMail.objects.exists()
    with schema_context("beta"):
        assert not UndeliveredMail.objects.exists()


def test_mail_the_queue_would_not_take_waits_for_the_sweeper(alpha, queued, settings):
    from dramatiq import get_broker

    connection.set_tenant(alpha)
    broker = get_broker()
    pool = broker.client.connection_pool
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    broker.client.connection_pool = type(pool)(
        host="127.0.0.1", port=dead_port, socket_connect_timeout=1
    )
    try:
        _message().send()  # Redis is down: kept in the database, no error
    finally:
        broker.client.connection_pool = pool
    row = UndeliveredMail.objects.get()
    assert row.status == "unqueued"
    assert services.mail_unqueued_requeue() == 1
    assert UndeliveredMail.objects.get().status == "requeued"
    assert services.mail_unqueued_requeue() == 0
