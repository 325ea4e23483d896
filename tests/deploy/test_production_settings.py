"""`CALLRIX_ENV=production`: refuses to start without its secrets, embeds nothing, passes
Django's deployment checks, allows only routed hosts, logs JSON without personal data."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone
from django_tenants.utils import schema_context

from callrix import production
from kernel.log_format import JsonLogFormatter
from tenants.models import Domain
from tests.postgres_clients import database_url

CALLRIX = str(Path(sys.executable).with_name("callrix"))


def _production_env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CALLRIX_", "DJANGO_", "PYTEST_")) and key != "DEBUG"
    }
    env.update(
        CALLRIX_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        CALLRIX_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        CALLRIX_INTERNAL_TOKEN=secrets.token_urlsafe(32),
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
        BASE_DOMAIN="callrix.example",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _callrix(tmp_path: Path, *args: str, **changes: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CALLRIX, *args],
        env=_production_env(tmp_path, **changes),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("variable", production.REQUIRED_VARIABLES)
@pytest.mark.parametrize("value", [None, " "])
def test_production_refuses_to_start_without_each_variable(tmp_path, variable, value):
    result = _callrix(tmp_path, "check", **{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"CALLRIX_ENV=production needs {variable} in the environment" in result.stderr
    # Nothing embedded was started or created instead.
    assert not (tmp_path / ".callrix").exists()


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"SECRET_KEY": "short-secret"}, "SECRET_KEY must be a random value"),
        ({"SECRET_KEY": "dev-only-" + "x" * 60}, "SECRET_KEY must be a random value"),
        ({"CALLRIX_ENCRYPTION_KEY": "not-a-fernet-key"}, "CALLRIX_ENCRYPTION_KEY must be"),
        ({"CALLRIX_INTERNAL_TOKEN": "guessable"}, "CALLRIX_INTERNAL_TOKEN must be"),
    ],
)
def test_production_refuses_unusable_secrets(tmp_path, changes, complaint):
    result = _callrix(tmp_path, "check", **changes)

    assert result.returncode != 0
    assert complaint in result.stderr and "refusing to start" in result.stderr


def test_production_passes_the_deployment_checks(tmp_path):
    result = _callrix(tmp_path, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert not (tmp_path / ".callrix").exists()


def test_production_settings_are_hardened_whatever_debug_says(tmp_path):
    probe = (
        "from django.conf import settings as s; import json; print(json.dumps({"
        "'debug': s.DEBUG, 'proxy': s.SECURE_PROXY_SSL_HEADER, 'redirect': s.SECURE_SSL_REDIRECT,"
        "'hsts': s.SECURE_HSTS_SECONDS, 'sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        "'cookies': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY],"
        "'storage': s.STORAGES['staticfiles']['BACKEND'],"
        "'formatter': s.LOGGING['handlers']['console'].get('formatter'),"
        "'hosts': [str(h) for h in s.ALLOWED_HOSTS], 'proxies': s.NINJA_NUM_PROXIES,"
        "'trusted': s.TRUSTED_PROXY_COUNT, 'axes': s.AXES_CLIENT_IP_CALLABLE}))"
    )
    result = _callrix(tmp_path, "shell", "-c", probe, DEBUG="1")

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["debug"] is False
    assert found["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["redirect"] is True and found["hsts"] >= 31536000 and found["sub"] is True
    assert found["cookies"] == [True, True, True]
    assert found["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert found["formatter"] == "json"
    assert found["hosts"] == ["<hosts served by the tenant routing>"]
    # Behind Traefik, throttles and lockouts key on the client, not on Traefik's address.
    assert found["proxies"] == 1 and found["trusted"] == 1
    assert found["axes"] == "kernel.client_address.axes_client_ip"


def test_static_files_collect_as_the_image_build_does(tmp_path):
    # The Dockerfile runs this with throw-away secrets, before any database exists.
    result = _callrix(
        tmp_path,
        "collectstatic",
        "--noinput",
        DATABASE_URL="postgresql://build@127.0.0.1:1/build",
        REDIS_URL="redis://127.0.0.1:1/0",
    )

    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    admin_css = manifest["paths"]["admin/css/base.css"]
    assert admin_css != "admin/css/base.css"  # hashed name, cacheable forever
    assert (tmp_path / "static" / f"{admin_css}.gz").exists()


@pytest.mark.django_db
def test_production_allows_exactly_the_hosts_the_routing_serves(settings, host_client, alpha, beta):
    settings.ALLOWED_HOSTS = production.allowed_hosts()
    with schema_context("public"):
        Domain.objects.create(
            domain="advice.alpha-brand.example",
            tenant=alpha,
            is_primary=False,
            verified_at=timezone.now(),
        )
        Domain.objects.create(domain="pending.beta-brand.example", tenant=beta, is_primary=False)

    def status(host: str) -> int:
        response = host_client(host).get("/api/v1/health")
        if response.status_code >= 400:  # refused hosts answer the error contract too
            assert response.json()["code"] == "unknown_host"
        return response.status_code

    assert status("alpha.localhost") == 200
    assert status("beta.localhost") == 200
    assert status("advice.alpha-brand.example") == 200
    assert host_client("localhost").get("/api/platform/v1/health").status_code == 200
    # Not verified, unknown, foreign: not allowed, the same JSON 404 as in development.
    assert status("pending.beta-brand.example") == 404
    assert status("nobody.localhost") == 404
    assert status("evil.example") == 404


def test_json_log_lines_name_the_route_not_the_path(caplog):
    request = RequestFactory().get("/account/set-password/MQ/secret-reset-token/")
    request.resolver_match = resolve(
        "/account/set-password/MQ/secret-reset-token/", urlconf="callrix.urls_tenant"
    )
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "%s: %s",
        ("Not Found", request.path),
        None,
    )
    record.request = request
    record.status_code = 404

    line = json.loads(JsonLogFormatter().format(record))

    assert line["route"] == "/account/set-password/<uidb64>/<token>/"
    assert line["message"] == "Not Found: /account/set-password/<uidb64>/<token>/"
    assert line["status"] == 404 and line["method"] == "GET" and line["level"] == "WARNING"
    assert "secret-reset-token" not in json.dumps(line)
    assert set(line) == {"time", "level", "logger", "method", "route", "status", "message"}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_the_web_command_serves_production_behind_the_proxy(tmp_path, licensees):
    """deploy/compose.yml's `web` command, in production mode, against the test database."""
    import http.client
    import time

    port = _free_port()
    env = _production_env(
        tmp_path,
        DATABASE_URL=database_url(),
        BASE_DOMAIN="localhost",
        WEB_WORKERS="1",
    )
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            f"--config={root / 'deploy' / 'gunicorn.conf.py'}",
            f"--bind=127.0.0.1:{port}",
            "callrix.wsgi:application",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def get(path: str, host: str, **headers: str) -> http.client.HTTPResponse:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", path, headers={"Host": host, **headers})
        return client.getresponse()

    try:
        # Until the worker has booted (slow on a loaded machine): refused, or accepted by the
        # listening socket and not answered yet.
        deadline = time.monotonic() + 60
        while True:
            try:
                health = get("/api/platform/v1/health", "127.0.0.1")
                break
            except (ConnectionRefusedError, TimeoutError):
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        # The container's health check: plain HTTP on 127.0.0.1, not redirected.
        assert health.status == 200, health.read()

        # Plain HTTP from outside goes to HTTPS...
        plain = get("/api/v1/health", "alpha.localhost")
        assert plain.status == 301
        assert plain.getheader("Location") == "https://alpha.localhost/api/v1/health"
        # ...and through Traefik (X-Forwarded-Proto: https) it is served with HSTS.
        proxied = get("/api/v1/health", "alpha.localhost", **{"X-Forwarded-Proto": "https"})
        assert proxied.status == 200 and b'"licensee": "alpha"' in proxied.read()
        hsts = proxied.getheader("Strict-Transport-Security")
        assert hsts.startswith("max-age=31536000") and "includeSubDomains" in hsts
        # A host nobody serves is refused before any view runs.
        stranger = get("/api/v1/health", "evil.example", **{"X-Forwarded-Proto": "https"})
        assert stranger.status == 404 and b'"unknown_host"' in stranger.read()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)

    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and all(line.startswith("{") for line in lines), output
    records = [json.loads(line) for line in lines]
    assert any("Booting worker" in r["message"] for r in records if r["logger"] == "gunicorn.error")
    # No access log: request paths never reach the logs from gunicorn.
    assert not any("/api/v1/health" in r["message"] for r in records)
