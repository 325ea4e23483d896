"""An SMTP relay that refuses every message, as a process of its own: a request that sends
mail still succeeds (mail is queued), the mail job fails and is retried, and its last attempt
leaves a dead letter in the licensee's schema instead of losing the mail."""

from __future__ import annotations

import smtplib
import socket
import struct
import subprocess
import sys

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connection

from branding.outbox import services
from branding.outbox.models import UndeliveredMail
from branding.outbox.wire import message_dump

pytestmark = pytest.mark.django_db

# A relay that greets, then refuses every transaction (554), as a full or broken one does.
# It picks its own port and says which (no other process can take it between), and a client
# that resets its connection ends that connection only: the test's readiness probe did that
# under load, and the relay died, so the mail job met "Connection refused" instead of a 554.
REFUSING_RELAY = """
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(8)
print(server.getsockname()[1], flush=True)
while True:
    client, _ = server.accept()
    try:
        client.sendall(b"220 relay ready\\r\\n")
        buffered = b""
        while True:
            data = client.recv(4096)
            if not data:
                break
            buffered += data
            while b"\\r\\n" in buffered:
                line, buffered = buffered.split(b"\\r\\n", 1)
                verb = line.split(b" ")[0].upper()
                if verb in (b"EHLO", b"HELO"):
                    client.sendall(b"250 relay\\r\\n")
                elif verb == b"QUIT":
                    client.sendall(b"221 bye\\r\\n")
                else:
                    client.sendall(b"554 5.3.0 service unavailable\\r\\n")
    except OSError:
        pass
    finally:
        client.close()
"""


@pytest.fixture
def refusing_relay(settings):
    process = subprocess.Popen(
        [sys.executable, "-c", REFUSING_RELAY], stdout=subprocess.PIPE, text=True
    )
    port = int(process.stdout.readline())  # listening once it says where
    settings.EMAIL_BACKEND = "branding.outbox.backend.QueuedEmailBackend"
    settings.MAIL_TRANSPORT_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 2
    process.port = port
    yield process
    process.kill()
    process.wait(timeout=5)


def _reset_connection(port: int) -> None:
    """Connect and reset at once (SO_LINGER 0), as an impatient or dying client does."""
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.connect(("127.0.0.1", port))


def test_a_refusing_relay_leaves_a_dead_letter_not_a_failed_request(
    api, alpha, refusing_relay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api("alpha").post("/api/v1/auth/password-reset", {"email": "owner@alpha.test"})
    assert response.status_code == 202  # the mail was only queued
    connection.set_tenant(alpha)
    for _ in range(3):  # clients that reset their connection do not take the relay down
        _reset_connection(refusing_relay.port)
    message = EmailMultiAlternatives("Receipt", "Thanks", "a@alpha.test", ["casey@example.test"])
    data = message_dump(message)
    with pytest.raises(smtplib.SMTPException):
        services.mail_deliver(data, attempt=0, last_attempt=False)  # the job is retried
    assert services.mail_deliver(data, attempt=8, last_attempt=True) == "dead"
    dead = UndeliveredMail.objects.get(status="dead")
    assert "554" in dead.last_error and dead.message["to"] == ["casey@example.test"]
