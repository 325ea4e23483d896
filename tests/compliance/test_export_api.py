"""Licensee admins ask for a tenant export, follow its progress and download it through a
signed link that only they can use."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import schema_context

from compliance.licensee import links, services, storage
from compliance.licensee.models import TenantExport
from compliance.licensee.selectors import progress_cache_key
from tests.compliance.conftest import archive_files, archive_manifest
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

EXPORTS = "/api/v1/admin/exports"


@pytest.fixture
def people(alpha, beta, make_user):
    make_user("alpha", "admin@alpha.test", role="admin")
    make_user("alpha", "caller@alpha.test", role="end_user")
    make_user("beta", "admin@beta.test", role="admin")


@pytest.fixture
def admin(people, token_for):
    return token_for("alpha", "admin@alpha.test")


def _run(schema: str, export_id: int) -> TenantExport:
    """What the worker does with the queued message."""
    with schema_context(schema):
        return services.tenant_export_run(export_id=export_id)


@pytest.fixture
def ready(api, admin) -> dict:
    """A finished export of alpha, as its status endpoint reports it."""
    export_id = api("alpha").post(EXPORTS, token=admin).json()["id"]
    _run("alpha", export_id)
    return api("alpha").get(f"{EXPORTS}/{export_id}", token=admin).json()


def _link(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _session(host_client, slug: str, email: str):
    client = host_client(f"{slug}.localhost")
    signed_in = client.post("/account/login/", {"username": email, "password": PASSWORD})
    assert signed_in.status_code == 302
    return client


def test_an_admin_asks_for_an_export_and_it_is_queued(api, admin):
    response = api("alpha").post(EXPORTS, token=admin)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["progress"] == 0
    assert body["download_url"] is None
    again = api("alpha").post(EXPORTS, token=admin)
    assert again.status_code == 409 and again.json()["code"] == "export_in_progress"
    listed = api("alpha").get(EXPORTS, token=admin).json()
    assert [row["id"] for row in listed] == [body["id"]]


def test_only_admins_may_export(api, people, token_for):
    caller = token_for("alpha", "caller@alpha.test")
    assert api("alpha").post(EXPORTS, token=caller).status_code == 403
    assert api("alpha").get(EXPORTS, token=caller).status_code == 403
    assert api("alpha").post(EXPORTS).status_code == 401
    with schema_context("alpha"):
        assert not TenantExport.objects.exists()


def test_export_requests_are_throttled(api, admin):
    answers = [api("alpha").post(EXPORTS, token=admin).status_code for _ in range(3)]
    assert answers == [202, 409, 409]
    throttled = api("alpha").post(EXPORTS, token=admin)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled" and int(throttled["Retry-After"]) > 0


def test_bad_input_is_refused_clearly(api, admin):
    assert api("alpha").get(f"{EXPORTS}/not-a-number", token=admin).status_code == 422
    missing = api("alpha").get(f"{EXPORTS}/999999", token=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "export_not_found"
    no_token = api("alpha").get(f"{EXPORTS}/1/download", token=admin)
    assert no_token.status_code == 422 and no_token.json()["field"] == "token"


def test_a_running_export_reports_the_jobs_progress(api, admin):
    export_id = api("alpha").post(EXPORTS, token=admin).json()["id"]
    with schema_context("alpha"):
        TenantExport.objects.filter(pk=export_id).update(status="running")
    cache.set(progress_cache_key(schema="alpha", export_id=export_id), 42)
    body = api("alpha").get(f"{EXPORTS}/{export_id}", token=admin).json()
    assert (body["status"], body["progress"]) == ("running", 42)


def test_a_ready_export_downloads_through_its_signed_link(api, admin, ready):
    assert ready["status"] == "ready" and ready["progress"] == 100
    assert ready["download_url"].startswith("http://alpha.localhost/api/v1/admin/exports/")
    response = api("alpha").client.get(
        _link(ready["download_url"]), HTTP_AUTHORIZATION=f"Bearer {admin}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == ready["sha256"]
    assert len(body) == ready["size_bytes"]
    assert archive_manifest(archive_files(body))["licensee"]["slug"] == "alpha"


def test_the_download_needs_an_admin_as_well_as_the_link(
    api, ready, people, token_for, host_client
):
    link = _link(ready["download_url"])
    assert api("alpha").client.get(link).status_code == 401
    caller = token_for("alpha", "caller@alpha.test")
    refused = api("alpha").client.get(link, HTTP_AUTHORIZATION=f"Bearer {caller}")
    assert refused.status_code == 403
    assert _session(host_client, "alpha", "caller@alpha.test").get(link).status_code == 403
    browser = _session(host_client, "alpha", "admin@alpha.test")
    assert browser.get(link).status_code == 200


def test_a_link_is_worthless_on_another_licensees_host(api, admin, ready, token_for):
    link = _link(ready["download_url"])
    beta_admin = token_for("beta", "admin@beta.test")
    on_beta = api("beta").client.get(link, HTTP_AUTHORIZATION=f"Bearer {beta_admin}")
    assert on_beta.status_code == 404
    alpha_token_on_beta = api("beta").client.get(link, HTTP_AUTHORIZATION=f"Bearer {admin}")
    assert alpha_token_on_beta.status_code == 401


def test_a_link_opens_only_its_own_export(api, admin, ready):
    token = links.download_token_make(schema="alpha", export_id=ready["id"] + 1)
    other = f"{EXPORTS}/{ready['id']}/download?token={token}"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {admin}"}
    assert api("alpha").client.get(other, **auth).status_code == 404
    tampered = _link(ready["download_url"])[:-2] + "xx"
    assert api("alpha").client.get(tampered, **auth).status_code == 404


def test_a_download_link_expires_after_24_hours(api, ready, token_for):
    link = _link(ready["download_url"])
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=50)):
        admin = token_for("alpha", "admin@alpha.test")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {admin}"}
        assert api("alpha").client.get(link, **auth).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        admin = token_for("alpha", "admin@alpha.test")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {admin}"}
        expired = api("alpha").client.get(link, **auth)
        assert expired.status_code == 403 and expired.json()["code"] == "link_expired"
        fresh = api("alpha").get(f"{EXPORTS}/{ready['id']}", token=admin).json()
        assert api("alpha").client.get(_link(fresh["download_url"]), **auth).status_code == 200


def test_an_export_expires_after_seven_days_and_its_file_is_deleted(api, ready, token_for):
    path = storage.file_path("alpha", _file_name(ready["id"]))
    assert path.is_file()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        admin = token_for("alpha", "admin@alpha.test")
        status = api("alpha").get(f"{EXPORTS}/{ready['id']}", token=admin).json()
        assert status["status"] == "expired" and status["download_url"] is None
        token = links.download_token_make(schema="alpha", export_id=ready["id"])
        gone = api("alpha").client.get(
            f"{EXPORTS}/{ready['id']}/download?token={token}",
            HTTP_AUTHORIZATION=f"Bearer {admin}",
        )
        assert gone.status_code == 410 and gone.json()["code"] == "export_expired"
        with schema_context("alpha"):
            assert services.tenant_exports_expire() == 1
            row = TenantExport.objects.get(pk=ready["id"])
        assert (row.status, row.file_name) == ("expired", "")
        assert not path.exists()


def _file_name(export_id: int) -> str:
    with schema_context("alpha"):
        return TenantExport.objects.get(pk=export_id).file_name
