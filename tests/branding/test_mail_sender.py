"""A licensee's people get e-mail from the licensee, never from Callrix: From names the brand
with no-reply@ its host (or a sender on one of its verified domains), Reply-To is its help
address, and mail goes through its own SMTP relay when it has one."""

from __future__ import annotations

import asyncore
import smtpd
import threading
import warnings
from email import message_from_bytes

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from branding import services as brand_services
from branding.mail import branded_email_build, branded_email_send
from branding.selectors import brand_cache, brand_for_licensee
from tenants import services as tenant_services
from tenants.models import Domain
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def branded(alpha):
    brand_services.brand_update(
        licensee=alpha, app_name="Alpha Oracles", support_email="help@alpha.test"
    )
    brand_cache.invalidate()
    return alpha


def _admin_token(api, make_user, slug: str) -> str:
    make_user(slug, f"mailadmin@{slug}.test", role="admin")
    response = api(slug).post(
        "/api/v1/auth/token", {"email": f"mailadmin@{slug}.test", "password": PASSWORD}
    )
    return response.json()["access"]


def _whole(message) -> str:
    return message.message().as_string()


def test_mail_comes_from_the_licensee_host_with_its_help_address(branded):
    message = branded_email_build(
        to=["casey@example.test"],
        subject="Your receipt",
        paragraphs=["Thank you."],
        brand=brand_for_licensee(branded),
    )
    assert message.from_email == "Alpha Oracles <no-reply@alpha.localhost>"
    assert message.reply_to == ["help@alpha.test"]
    assert "callrix" not in _whole(message).lower()


def test_a_sender_on_a_verified_domain_only(branded, api, make_user):
    token = _admin_token(api, make_user, "alpha")
    refused = api("alpha").put(
        "/api/v1/admin/mail-sender", {"sender_email": "hello@not-theirs.example"}, token
    )
    assert refused.status_code >= 400 and refused.json()["field"] == "sender_email"
    domain = tenant_services.domain_add(licensee=branded, domain="mail-alpha.example")
    try:
        saved = api("alpha").put(
            "/api/v1/admin/mail-sender", {"sender_email": "Hello@mail-alpha.example"}, token
        )
        assert saved.status_code == 200, saved.content
        assert saved.json()["from_address"] == "hello@mail-alpha.example"
        assert "mail-alpha.example" in saved.json()["own_domains"]
        brand_cache.invalidate()
        message = branded_email_build(
            to=["x@example.test"], subject="s", paragraphs=["p"], brand=brand_for_licensee(branded)
        )
        assert message.from_email == "Alpha Oracles <hello@mail-alpha.example>"
    finally:
        Domain.objects.filter(pk=domain.pk).delete()


def test_another_licensee_cannot_read_or_change_the_sender(branded, api, make_user, beta):
    alpha_token = _admin_token(api, make_user, "alpha")
    api("alpha").put(
        "/api/v1/admin/mail-sender",
        {"smtp_host": "smtp.alpha.example", "smtp_username": "alpha", "smtp_password": "s3cret"},
        alpha_token,
    )
    assert api("beta").get("/api/v1/admin/mail-sender", alpha_token).status_code == 401
    beta_token = _admin_token(api, make_user, "beta")
    seen = api("beta").get("/api/v1/admin/mail-sender", beta_token).json()
    assert seen["smtp_host"] == "" and seen["from_address"] == "no-reply@beta.localhost"
    own = api("alpha").get("/api/v1/admin/mail-sender", alpha_token).json()
    assert own["smtp_has_password"] is True and "s3cret" not in str(own)


class _Inbox(smtpd.SMTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), None, decode_data=False)
        self.received: list[tuple[str, list[str], bytes]] = []

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        self.received.append((mailfrom, rcpttos, data))


@pytest.fixture
def relay():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        inbox = _Inbox()
    thread = threading.Thread(
        target=asyncore.loop, kwargs={"timeout": 0.05, "map": inbox._map}, daemon=True
    )
    thread.start()
    yield inbox
    inbox.close()
    thread.join(timeout=2)


def test_mail_goes_through_the_licensees_own_relay(branded, relay, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # Callrix's relay: unreachable
    port = relay.socket.getsockname()[1]
    with schema_context("public"):
        brand_services.brand_mail_set(
            licensee=branded,
            sender_email="",
            own_domains=["alpha.localhost"],
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_use_tls=False,
        )
    brand_cache.invalidate()
    connection.set_schema_to_public()
    branded_email_send(
        to=["casey@example.test"],
        subject="Receipt",
        paragraphs=["Thanks"],
        brand=brand_for_licensee(branded),
    )
    [(mail_from, recipients, data)] = relay.received
    assert mail_from == "no-reply@alpha.localhost" and recipients == ["casey@example.test"]
    assert message_from_bytes(data)["From"] == "Alpha Oracles <no-reply@alpha.localhost>"
