"""The export job run by a real dramatiq worker on the real Redis broker, and the daily
cleanup of old exports."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import dramatiq
import pytest
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import schema_context
from dramatiq import Worker

from callrix.schedule import schedule
from compliance.callrix.tasks import retention_run_all
from compliance.licensee import selectors, services, storage
from compliance.licensee.archive import archive_write
from compliance.licensee.export_scope import export_plan
from compliance.licensee.models import TenantExport
from identity.models import User
from tests.compliance.conftest import archive_files, archive_manifest
from tests.factories import worker_stop

EXPORTS = "/api/v1/admin/exports"


@pytest.fixture
def worker():
    broker = dramatiq.get_broker()
    broker.flush("compliance")
    running = Worker(broker, queues={"compliance"}, worker_threads=1, worker_timeout=100)
    running.start()
    yield broker
    worker_stop(running)


def test_a_real_worker_writes_the_archive_an_admin_asked_for(
    throwaway_licensee, make_user, api, token_for, worker
):
    licensee = throwaway_licensee("cmp-worker", "Worker Exports")
    make_user(licensee.schema_name, "admin@worker.test", role="admin")
    admin = token_for("cmp-worker", "admin@worker.test")
    client = api("cmp-worker")

    asked = client.post(EXPORTS, token=admin)
    assert asked.status_code == 202
    worker.join("compliance", timeout=60_000)
    status = client.get(f"{EXPORTS}/{asked.json()['id']}", token=admin).json()
    assert status["status"] == "ready", status
    assert status["progress"] == 100 and status["row_count"] > 0

    path = status["download_url"].split("localhost", 1)[1]
    download = client.client.get(path, HTTP_AUTHORIZATION=f"Bearer {admin}")
    assert download.status_code == 200
    files = archive_files(b"".join(download.streaming_content))
    manifest = archive_manifest(files)
    assert manifest["licensee"] == {
        "slug": "cmp-worker",
        "name": "Worker Exports",
        "schema": "cmp_worker",
        "currency": "EUR",
    }
    assert b"admin@worker.test" in files["tables/identity_user.json"]


def test_the_scheduler_runs_the_cleanup_daily():
    # Expiring exports is one of the retention rules (compliance.callrix.retention).
    jobs = {job.actor_path: job.every_seconds for job in schedule()}
    assert jobs["compliance.callrix.tasks.retention_run_all"] == 24 * 3600


@pytest.mark.django_db
def test_cleanup_expires_old_exports_of_every_licensee(alpha, beta):
    archives = []
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            export = TenantExport.objects.create(requested_by_id=1)
            export = services.tenant_export_run(export_id=export.pk)
            TenantExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
        archives.append(storage.file_path(schema, export.file_name))
    assert all(path.is_file() for path in archives)
    retention_run_all()
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            assert list(TenantExport.objects.values_list("status", "file_name")) == [
                ("expired", "")
            ]
    assert not any(path.exists() for path in archives)


@pytest.mark.django_db
def test_cleanup_fails_lost_exports_and_removes_stray_files(alpha):
    now = timezone.now()
    with schema_context("alpha"):
        lost = TenantExport.objects.create(requested_by_id=1, status="running")
        TenantExport.objects.filter(pk=lost.pk).update(created_at=now - timedelta(hours=13))
        _, leftover = storage.file_new("alpha")
        leftover.write_bytes(b"half an archive")
        old = time.time() - 13 * 3600
        os.utime(leftover, (old, old))
        _, recent = storage.file_new("alpha")  # a run writing right now
        recent.write_bytes(b"being written")
        services.tenant_exports_expire()
        lost.refresh_from_db()
    assert lost.status == "failed" and "did not finish" in lost.error
    assert not leftover.exists() and recent.exists()


def test_all_tables_are_read_in_one_snapshot(committed, alpha, tmp_path):
    """A user committed by someone else while the archive is being written is not in it:
    the tables already written and the ones still to come show the same moment."""
    added = []

    def someone_signs_up(done: int, total: int) -> None:
        if added:
            return

        def sign_up():
            with schema_context("alpha"):
                added.append(User.objects.create(email="late@alpha.test").pk)
            connections.close_all()

        thread = threading.Thread(target=sign_up)
        thread.start()
        thread.join()

    out = tmp_path / "alpha.zip"
    try:
        with schema_context("alpha"):
            archive_write(
                path=out,
                licensee=selectors.licensee_label("alpha"),
                plan=export_plan("alpha"),
                on_progress=someone_signs_up,
            )
    finally:
        # Raw: the ORM's delete collector would look for related rows in public tables.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM alpha.identity_user WHERE email = 'late@alpha.test'")
    assert added
    assert b"late@alpha.test" not in archive_files(out.read_bytes())["tables/identity_user.json"]
