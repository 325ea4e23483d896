"""One error contract under /api/, /webhooks/ and /internal/, whatever went wrong, in
development and production; branded error pages elsewhere; no debug page for outsiders."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, override_settings

from kernel.log_format import JsonLogFormatter

pytestmark = pytest.mark.django_db

OUTSIDER = "203.0.113.9"  # documentation address: not this machine


def _contract(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert {"detail", "code", "field"} <= body.keys(), body
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_paths_and_wrong_methods_are_json(alpha, debug):
    client = Client(HTTP_HOST="alpha.localhost", REMOTE_ADDR=OUTSIDER)
    with override_settings(DEBUG=debug):
        _contract(client.get("/api/v1/nowhere"), 404, "not_found")
        _contract(client.get("/webhooks/nowhere"), 404, "not_found")
        not_allowed = client.get("/api/v1/auth/token")
        _contract(not_allowed, 405, "method_not_allowed")
        assert "POST" in not_allowed["Allow"]
        public = Client(HTTP_HOST="localhost", REMOTE_ADDR=OUTSIDER)
        _contract(public.get("/api/platform/v1/nowhere"), 404, "not_found")
        _contract(public.get("/api/platform/v1/auth/token"), 405, "method_not_allowed")
        body = _contract(public.get("/webhooks/stripe"), 405, "method_not_allowed")
        assert "urlpatterns" not in json.dumps(body)


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_host_is_json_404_with_nothing_of_the_settings(debug):
    client = Client(HTTP_HOST="pg_catalog.localhost", REMOTE_ADDR=OUTSIDER)
    with override_settings(DEBUG=debug):
        for path in ("/", "/api/v1/health", "/admin/"):
            response = client.get(path)
            _contract(response, 404, "unknown_host")
            text = response.content.decode()
            for secret_looking in ("SECRET_KEY", "DATABASES", "FCM_", "PRIVATE KEY", "Traceback"):
                assert secret_looking not in text


@override_settings(ROOT_URLCONF="tests.callrix.failing_urls")
@pytest.mark.parametrize("debug", [False, True])
def test_a_500_shows_no_sql_and_returns_the_error_id_it_logs(alpha, caplog, debug):
    client = Client(
        HTTP_HOST="alpha.localhost", REMOTE_ADDR=OUTSIDER, raise_request_exception=False
    )
    with override_settings(DEBUG=debug), caplog.at_level(logging.ERROR, logger="callrix.errors"):
        response = client.get("/api/v1/failing")
    body = _contract(response, 500, "server_error")
    text = response.content.decode()
    assert "SELECT" not in text and "division" not in text and "Traceback" not in text
    assert len(body["error_id"]) == 32
    logged = [r for r in caplog.records if body["error_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the log has what the answer leaves out
    line = json.loads(JsonLogFormatter().format(logged[0]))
    assert line["route"] == "/api/v1/failing" and line["status"] == 500
    assert "division by zero" in line["exception"]


@override_settings(ROOT_URLCONF="tests.callrix.failing_urls")
def test_a_dependency_that_is_down_is_a_503_with_its_error_id(alpha):
    client = Client(HTTP_HOST="alpha.localhost", raise_request_exception=False)
    body = _contract(client.get("/api/v1/unavailable"), 503, "unavailable")
    assert len(body["error_id"]) == 32 and "6379" not in body["detail"]


@override_settings(ROOT_URLCONF="tests.callrix.failing_urls")
def test_a_failing_page_gets_the_licensees_branded_500_not_the_debug_page(alpha):
    client = Client(
        HTTP_HOST="alpha.localhost", REMOTE_ADDR=OUTSIDER, raise_request_exception=False
    )
    with override_settings(DEBUG=True):
        response = client.get("/failing-page")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Alpha Advice" in page and "Callrix" not in page
    assert "Traceback" not in page and "SELECT" not in page and "SECRET_KEY" not in page


@pytest.mark.parametrize("remote, debug_page", [(OUTSIDER, False), ("127.0.0.1", True)])
def test_debug_404_pages_are_only_for_this_machine(alpha, remote, debug_page):
    client = Client(HTTP_HOST="alpha.localhost", REMOTE_ADDR=remote)
    with override_settings(DEBUG=True):
        response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert ("URLconf" in page) is debug_page
    if not debug_page:
        assert "Alpha Advice" in page and "Callrix" not in page


def test_production_page_404s_are_branded_per_host(alpha, beta):
    for slug, name, other in (
        ("alpha", "Alpha Advice", "Beta"),
        ("beta", "Beta Guidance", "Alpha"),
    ):
        response = Client(HTTP_HOST=f"{slug}.localhost").get("/no-such-page/")
        assert response.status_code == 404
        page = response.content.decode()
        assert name in page and other not in page and "Callrix" not in page


def test_error_pages_speak_german(alpha):
    response = Client(HTTP_HOST="alpha.localhost", HTTP_ACCEPT_LANGUAGE="de").get(
        "/no-such-page/", HTTP_COOKIE="language=de"
    )
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.content.decode()


def test_internal_endpoints_answer_the_contract(settings):
    settings.CALLRIX_INTERNAL_TOKEN = "internal-test-token"
    client = Client(HTTP_HOST="web")
    response = client.get("/internal/traefik")
    _contract(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Bearer"
    _contract(
        client.post(
            "/internal/traefik",
            content_type="application/json",
            HTTP_AUTHORIZATION="Bearer internal-test-token",
        ),
        405,
    )
    _contract(client.get("/internal/nowhere"), 404, "not_found")


def test_a_form_with_too_many_fields_is_a_branded_400_not_a_debug_page(alpha):
    client = Client(HTTP_HOST="alpha.localhost", REMOTE_ADDR=OUTSIDER)
    body = "&".join(f"f{i}=x" for i in range(1_500))
    with override_settings(DEBUG=True):
        response = client.generic(
            "POST", "/account/login/", body, "application/x-www-form-urlencoded"
        )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Traceback" not in page and "NOARCHIVE" not in page and "Alpha Advice" in page
