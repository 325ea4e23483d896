"""Development mode is safe to expose by mistake: no settings or secrets on any page, the
internal endpoints want their token in every mode, X-Forwarded-For is believed only behind
our own proxies, e-mail links use the canonical host, unknown hosts cost bounded memory."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants import routing

pytestmark = pytest.mark.django_db

OUTSIDER = "203.0.113.9"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END"


@override_settings(DEBUG=True, FCM_DEFAULT_CREDENTIALS=PRIVATE_KEY, SECRET_KEY="s3cr3t-" * 8)
@pytest.mark.parametrize("remote", [OUTSIDER, "127.0.0.1"])
def test_no_settings_or_secrets_on_any_debug_answer(alpha, remote):
    """Even this machine's own debug pages list no settings (a key in FCM_DEFAULT_CREDENTIALS
    was shown unmasked before)."""
    hosts = ["pg_catalog.localhost", "alpha.localhost", "localhost", "nobody.localhost"]
    for host in hosts:
        client = Client(HTTP_HOST=host, REMOTE_ADDR=remote, raise_request_exception=False)
        for path in ("/", "/api/v1/nowhere", "/no-such-page/", "/webhooks/stripe"):
            text = client.get(path).content.decode()
            assert "PRIVATE KEY" not in text and "s3cr3t-" not in text
            assert "FCM_DEFAULT_CREDENTIALS" not in text and "DATABASES" not in text


def test_the_debug_filter_shows_no_settings():
    from django.views.debug import get_default_exception_reporter_filter

    assert get_default_exception_reporter_filter().get_safe_settings() == {}


@pytest.mark.parametrize("configured", ["", "the-internal-token-0123456789"])
def test_internal_endpoints_want_a_token_in_every_mode(settings, configured):
    settings.CALLRIX_INTERNAL_TOKEN = configured
    settings.INTERNAL_HOSTS = ["web"]
    routing.internal_hosts.cache_clear()
    client = Client(HTTP_HOST="web")
    for debug in (True, False):
        with override_settings(DEBUG=debug):
            assert client.get("/internal/traefik").status_code == 401
            assert client.get("/internal/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    with_token = client.get("/internal/traefik", HTTP_AUTHORIZATION=f"Bearer {configured}")
    assert with_token.status_code == (200 if configured else 401)


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.5"),  # no proxy trusted: the header is ignored
        (1, "198.51.100.1", "198.51.100.1"),  # Traefik's one hop
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own entry is ignored
        (2, "198.51.100.1", "10.0.0.5"),  # fewer hops than proxies: a proxy was skipped
        (1, "not-an-address", "10.0.0.5"),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(trusted, forwarded, expected):
    from django.test import RequestFactory

    from kernel.client_address import client_address

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=trusted):
        assert client_address(request) == expected


def test_rotating_x_forwarded_for_gets_no_fresh_sign_in_budget(alpha, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "token": "3/h"}
    client = Client(HTTP_HOST="alpha.localhost")
    statuses = [
        client.post(
            "/api/v1/auth/token",
            {"email": f"x{i}@alpha.test", "password": "x"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]


@pytest.mark.parametrize("host", ["ALPHA.localhost:6666", "alpha.localhost.", "alpha.localhost:1"])
def test_the_password_reset_link_uses_the_canonical_host(alpha, make_user, mailoutbox, host):
    make_user("alpha", "reset-me@alpha.test")
    response = Client(HTTP_HOST=host).post(
        "/api/v1/auth/password-reset",
        {"email": "reset-me@alpha.test"},
        content_type="application/json",
    )
    assert response.status_code == 202
    link = next(line for line in mailoutbox[0].body.split() if "/account/set-password/" in line)
    assert link.startswith("http://alpha.localhost:8000/account/set-password/"), link


def test_unknown_hosts_are_remembered_briefly_and_boundedly(monkeypatch):
    cache = routing._hosts
    monkeypatch.setattr(cache, "miss_limit", 5)
    client = Client()
    for i in range(20):
        assert client.get("/", HTTP_HOST=f"random-{i}.localhost").status_code == 404
    assert cache.miss_count == 5
    # A remembered miss costs no query; an expired one is looked up again.
    with CaptureQueriesContext(connection) as queries:
        client.get("/", HTTP_HOST="random-19.localhost")
    assert len(queries) == 0
    monkeypatch.setattr(cache, "miss_seconds", -1)
    routing.invalidate_hosts()
    with CaptureQueriesContext(connection) as queries:
        client.get("/", HTTP_HOST="random-19.localhost")
    assert len(queries) == 1


def test_host_names_no_licensee_could_have_cost_no_query():
    with CaptureQueriesContext(connection) as queries:
        for host in ("pg_catalog.localhost", "a%00b.localhost", "-x-.localhost"):
            assert Client(HTTP_HOST=host).get("/api/v1/health").status_code == 404
    assert len(queries) == 0


def test_a_domain_added_after_a_miss_is_served(alpha):
    from django_tenants.utils import schema_context

    from tenants.models import Domain

    client = Client(HTTP_HOST="late.alpha-brand.example")
    assert client.get("/api/v1/health").status_code == 404
    with schema_context("public"):
        Domain.objects.create(
            domain="late.alpha-brand.example",
            tenant=alpha,
            is_primary=False,
            verified_at=timezone.now(),
        )
    routing.invalidate_hosts()  # what tenants.signals does on commit
    assert client.get("/api/v1/health").status_code == 200
