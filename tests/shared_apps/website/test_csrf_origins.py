"""CSRF stays on for every form, and a browser's own origin passes it on every host: the public
site, a licensee's subdomain and a licensee's verified custom domain. Pages send their origin
(`Referrer-Policy: same-origin`): with `no-referrer` Chromium sends `Origin: null`, which
Django's CSRF check refuses, so no form could be submitted."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tenants import services as tenant_services
from tenants.models import Domain
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _form(host: str, path: str, *, secure: bool = False) -> tuple[Client, str]:
    """A CSRF-enforcing browser that has opened the form at `path` on `host`: its token."""
    client = Client(HTTP_HOST=host, enforce_csrf_checks=True)
    extra = {"HTTP_X_FORWARDED_PROTO": "https"} if secure else {}
    page = client.get(path, **extra)
    assert page.status_code == 200, page.status_code
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    return client, token.group(1)


def _post(client: Client, path: str, token: str, origin: str, secure: bool = False, **data: str):
    extra = {"HTTP_X_FORWARDED_PROTO": "https"} if secure else {}
    return client.post(path, {"csrfmiddlewaretoken": token, **data}, HTTP_ORIGIN=origin, **extra)


@pytest.mark.parametrize(
    "path", ["/", "/signup/", "/privacy/register", "/privacy/final-export/not-a-token"]
)
def test_public_pages_send_their_origin_with_forms(host_client, path):
    page = host_client("localhost").get(path)
    assert b'<meta name="referrer" content="same-origin">' in page.content
    assert b"no-referrer" not in page.content
    assert page["Referrer-Policy"] == "same-origin"


def test_the_public_sign_up_form_accepts_its_own_origin_and_refuses_others():
    client, token = _form("localhost", "/signup/")
    for origin in ("null", "http://alpha.localhost", "http://evil.example"):
        assert _post(client, "/signup/", token, origin, slug="x").status_code == 403, origin
    # Its own origin passes the CSRF check and reaches the form (which names the bad field).
    answered = _post(client, "/signup/", token, "http://localhost", slug="x")
    assert answered.status_code != 403 and b'id="form-error"' in answered.content


def test_the_final_export_form_accepts_its_own_origin():
    path = "/privacy/final-export/not-a-token"
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    client.get("/signup/")  # the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert _post(client, path, token, "null", email="a@b.test").status_code == 403
    # Past CSRF, the page answers for the token itself (not a valid link).
    assert _post(client, path, token, "http://localhost", email="a@b.test").status_code == 404


def test_a_licensee_sign_in_accepts_its_host_and_its_custom_domain_only(alpha, beta):
    domain = tenant_services.domain_add(licensee=alpha, domain="readings-alpha.example")
    try:
        for host in ("alpha.localhost", "readings-alpha.example"):
            client, token = _form(host, "/account/login/")
            for origin in ("null", "http://beta.localhost", "http://localhost"):
                refused = _post(client, "/account/login/", token, origin, username="x")
                assert refused.status_code == 403, (host, origin)
            signed_in = _post(
                client,
                "/account/login/",
                token,
                f"http://{host}",
                username=f"owner@{alpha.slug}.test",
                password=PASSWORD,
            )
            assert signed_in.status_code != 403, host
    finally:
        Domain.objects.filter(pk=domain.pk).delete()


def test_behind_the_tls_proxy_the_https_origin_of_a_custom_domain_passes(alpha, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    domain = tenant_services.domain_add(licensee=alpha, domain="secure-alpha.example")
    try:
        client, token = _form("secure-alpha.example", "/account/login/", secure=True)
        page = "/account/login/"
        plain = _post(client, page, token, "http://secure-alpha.example", secure=True)
        assert plain.status_code == 403, "an http origin is not the https site"
        answered = _post(client, page, token, "https://secure-alpha.example", secure=True)
        assert answered.status_code != 403
    finally:
        Domain.objects.filter(pk=domain.pk).delete()
