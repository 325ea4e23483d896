"""A terminated licensee's final export: written at termination, its link e-mailed to the
owners, downloaded on Callrix's website by an owner or admin of that licensee only, until the
data is deleted."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import dramatiq
import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from django_tenants.utils import schema_context

from compliance.callrix import final_export
from compliance.licensee.models import TenantExport
from shared_apps.licensing import lifecycle
from tests.compliance.conftest import archive_files, archive_manifest
from tests.factories import PASSWORD, licensee_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(make_user):
    licensee = licensee_make(slug="fx-closed", name="Closed Oracles", owner_email="boss@fx.test")
    make_user("fx_closed", "admin@fx.test", role="admin")
    make_user("fx_closed", "caller@fx.test")
    mail.outbox.clear()
    broker = dramatiq.get_broker()
    broker.flush("compliance")
    with TestCase.captureOnCommitCallbacks(execute=True):
        lifecycle.licensee_terminate(slug="fx-closed")
    # The final export's job is queued at termination (run by hand below: a worker would not
    # see this test's uncommitted licensee).
    queued = [json.loads(raw) for raw in broker.client.hvals(f"{broker.namespace}:compliance.msgs")]
    assert [(m["actor_name"], m["args"]) for m in queued] == [
        ("final_export_prepare", [licensee.pk])
    ]
    broker.flush("compliance")
    licensee.refresh_from_db()
    return licensee


def _link(closed) -> str:
    export = final_export.final_export_prepare(licensee_id=closed.pk)
    assert export is not None and export.expires_at == closed.data_retained_until
    [message] = [m for m in mail.outbox if "is ready" in m.subject]
    assert message.to == ["boss@fx.test"]
    url = re.search(r"https?://\S+", message.body).group(0)
    return url.split("localhost", 1)[1].removeprefix(":8000")


def test_the_owner_gets_a_link_and_an_admin_downloads_the_whole_tenant(closed, host_client):
    path = _link(closed)
    browser = host_client("localhost")

    page = browser.get(path)
    assert page.status_code == 200 and b"Closed Oracles" in page.content
    download = browser.post(path, {"email": "admin@fx.test", "password": PASSWORD})

    assert download.status_code == 200, download.content
    assert download["Content-Type"] == "application/zip"
    files = archive_files(b"".join(download.streaming_content))
    assert archive_manifest(files)["licensee"]["slug"] == "fx-closed"
    assert b"caller@fx.test" in files["tables/identity_user.json"]


def test_the_link_alone_is_not_enough(closed, host_client, make_user, beta):
    path = _link(closed)
    make_user("beta", "admin@beta.test", role="admin")
    browser = host_client("localhost")

    for email, password in (
        ("admin@fx.test", "wrong"),
        ("caller@fx.test", PASSWORD),  # an end user, not an admin
        ("admin@beta.test", PASSWORD),  # another licensee's admin
    ):
        refused = browser.post(path, {"email": email, "password": password})
        assert refused.status_code == 403, email
        assert refused["Content-Type"].startswith("text/html")
    assert browser.get(path.replace("/final-export/", "/final-export/x")).status_code == 404


def test_a_rerun_reuses_the_archive(closed):
    first = final_export.final_export_prepare(licensee_id=closed.pk)
    second = final_export.final_export_prepare(licensee_id=closed.pk)
    assert first.pk == second.pk
    with schema_context("fx_closed"):
        assert TenantExport.objects.count() == 1


def test_after_30_days_the_link_is_gone(closed, host_client):
    path = _link(closed)
    with time_machine.travel(closed.data_retained_until + timedelta(seconds=1), tick=False):
        gone = host_client("localhost").get(path)
    assert gone.status_code == 410 and b"deleted" in gone.content


def test_nothing_is_offered_for_a_licensee_that_is_not_terminated(alpha):
    assert final_export.final_export_prepare(licensee_id=alpha.pk) is None
    with pytest.raises(Exception) as refused:
        final_export.final_export_check(
            token=final_export.final_export_url(schema="alpha", export_id=1).rsplit("/", 1)[1]
        )
    assert refused.value.status_code == 404


def test_the_termination_notice_announces_the_link(closed):
    [notice] = [m for m in mail.outbox if "final data export" in m.subject]
    assert "e-mail you the link" in notice.body
    assert f"{closed.data_retained_until:%d %B %Y}" in notice.body
    assert closed.terminated_at <= timezone.now()


def test_the_final_export_page_loads_nothing_from_other_origins(closed, host_client, settings):
    from tests.compliance.test_third_party_origins import MATOMO, foreign_origins

    path = _link(closed)
    settings.MATOMO_URL = f"{MATOMO}/"
    settings.MATOMO_SITE_ID = "3"
    page = host_client("localhost").get(path)
    assert foreign_origins(page.content.decode(), "localhost") <= {MATOMO}
    assert "form-action 'self'" in page["Content-Security-Policy"]
    quiet = host_client("localhost").get(path, HTTP_DNT="1")
    assert foreign_origins(quiet.content.decode(), "localhost") == set()
    assert "data-matomo" not in quiet.content.decode()
