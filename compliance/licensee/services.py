"""Every change to tenant exports: asking for one, writing it, and letting it expire."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.licensee import storage
from compliance.licensee.archive import ProgressCallback, archive_write
from compliance.licensee.errors import ExportInProgress, ExportScopeIncomplete
from compliance.licensee.export_scope import export_plan
from compliance.licensee.models import OPEN_STATUSES, TenantExport
from compliance.licensee.selectors import licensee_label, progress_cache_key
from identity.models import User
from kernel.job_outbox.services import job_send_on_commit
from kernel.tenant_connection import connection

logger = logging.getLogger(__name__)

Status = TenantExport.Status
EXPORT_KEPT = timedelta(days=7)
# Longer than the export job's time limit: an open export this old has lost its worker.
EXPORT_STALE_AFTER = timedelta(hours=12)


def tenant_export_request(*, admin: User) -> TenantExport:
    """Queue an export of the whole current schema for one of its admins."""
    from compliance.licensee.tasks import tenant_export_run

    try:
        with transaction.atomic():
            export = TenantExport.objects.create(requested_by_id=admin.pk)
    except IntegrityError as error:
        if "tenant_export_one_open" not in str(error):
            raise
        raise ExportInProgress(
            "An export is already being prepared. Check its progress, then ask again."
        ) from None
    job_send_on_commit(tenant_export_run, export.pk)
    return export


def _claim(export_id: int) -> TenantExport | None:
    """Mark the export running; None when it is already finished (a redelivered message).
    A running one is taken over: its worker died, since the broker redelivered it."""
    with transaction.atomic():
        export = TenantExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status not in OPEN_STATUSES:
            return None
        export.status = Status.RUNNING
        export.started_at = timezone.now()
        export.save(update_fields=["status", "started_at"])
    return export


def _progress_recorder(schema: str, export_id: int) -> ProgressCallback:
    key = progress_cache_key(schema=schema, export_id=export_id)
    last = -1

    def record(done: int, total: int) -> None:
        nonlocal last
        percent = min(99, done * 100 // total) if total else 99  # 100 means ready
        if percent != last:
            cache.set(key, percent, timeout=int(EXPORT_STALE_AFTER.total_seconds()))
            last = percent

    return record


def _fail(export: TenantExport, reason: str) -> TenantExport:
    TenantExport.objects.filter(pk=export.pk, status=Status.RUNNING).update(
        status=Status.FAILED, error=reason[:1000], finished_at=timezone.now()
    )
    export.refresh_from_db()
    return export


def tenant_export_run(*, export_id: int) -> TenantExport | None:
    """Write the archive of the current schema for a queued export (safe to run twice)."""
    export = _claim(export_id)
    if export is None:
        return None
    schema = connection.schema_name
    file_name, path = storage.file_new(schema)
    try:
        plan = export_plan(schema)
        summary = archive_write(
            path=path,
            licensee=licensee_label(schema),
            plan=plan,
            on_progress=_progress_recorder(schema, export.pk),
        )
    except ExportScopeIncomplete as error:
        logger.error("Export %s of %s refused: %s", export.pk, schema, error.detail)
        return _fail(export, error.detail)
    except Exception:
        _fail(export, "The export could not be written. Please ask for a new one.")
        raise
    finished = timezone.now()
    updated = TenantExport.objects.filter(pk=export.pk, status=Status.RUNNING).update(
        status=Status.READY,
        file_name=file_name,
        size_bytes=summary.size_bytes,
        sha256=summary.sha256,
        table_count=summary.table_count,
        row_count=summary.row_count,
        finished_at=finished,
        expires_at=finished + EXPORT_KEPT,
    )
    if not updated:  # given up on meanwhile (see tenant_exports_expire): keep nothing
        storage.file_delete(schema, file_name)
    export.refresh_from_db()
    return export


def tenant_exports_expire() -> int:
    """Delete the archives of exports past their seven days and mark them expired; fail
    exports whose worker was lost; remove files no export points at. Returns how many
    exports expired."""
    schema = connection.schema_name
    now = timezone.now()
    expired = 0
    for export in TenantExport.objects.filter(status=Status.READY, expires_at__lte=now):
        storage.file_delete(schema, export.file_name)
        expired += TenantExport.objects.filter(pk=export.pk, status=Status.READY).update(
            status=Status.EXPIRED, file_name=""
        )
    stale_before = now - EXPORT_STALE_AFTER
    TenantExport.objects.filter(status__in=OPEN_STATUSES, created_at__lt=stale_before).update(
        status=Status.FAILED,
        error="The export did not finish in time. Please ask for a new one.",
        finished_at=now,
    )
    keep = set(TenantExport.objects.filter(status=Status.READY).values_list("file_name", flat=True))
    for stray in storage.stray_files(schema, keep=keep, older_than=stale_before.timestamp()):
        stray.unlink(missing_ok=True)
    return expired
