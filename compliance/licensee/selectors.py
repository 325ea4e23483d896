"""Reads of tenant exports, in the current licensee's schema."""

from __future__ import annotations

from pathlib import Path

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from compliance.licensee import links, storage
from compliance.licensee.archive import LicenseeLabel
from compliance.licensee.errors import ExportExpired, ExportNotFound, ExportNotReady
from compliance.licensee.models import TenantExport
from kernel.tenant_connection import connection
from tenants.bridge import licensee_get_by_schema

Status = TenantExport.Status


def progress_cache_key(*, schema: str, export_id: int) -> str:
    return f"compliance:export-progress:{schema}:{export_id}"


def licensee_label(schema: str) -> LicenseeLabel:
    """Who the archive belongs to, as its manifest and README name them."""
    licensee = licensee_get_by_schema(schema_name=schema)
    if licensee is None:
        raise LookupError(f"no licensee owns the schema {schema!r}")
    return LicenseeLabel(
        slug=licensee.slug,
        name=licensee.display_name,
        schema=licensee.schema_name,
        currency=licensee.currency,
    )


def tenant_export_list(*, limit: int = 20) -> QuerySet[TenantExport]:
    return TenantExport.objects.order_by("-created_at", "-id")[:limit]


def tenant_export_get(*, export_id: int) -> TenantExport:
    export = TenantExport.objects.filter(pk=export_id).first()
    if export is None:
        raise ExportNotFound("Not found.")
    return export


def tenant_export_status(*, export: TenantExport) -> str:
    """A ready export past its seven days is expired, whether or not the daily cleanup has
    deleted its file yet."""
    expires_at = export.expires_at  # set when it became ready
    if export.status == Status.READY and expires_at is not None and expires_at <= timezone.now():
        return Status.EXPIRED
    return export.status


def tenant_export_progress(*, export: TenantExport) -> int:
    if export.status in (Status.READY, Status.EXPIRED):
        return 100
    if export.status == Status.RUNNING:
        key = progress_cache_key(schema=connection.schema_name, export_id=export.pk)
        return int(cache.get(key) or 0)
    return 0


def tenant_export_file(*, export_id: int, token: str) -> tuple[TenantExport, Path]:
    """The archive a signed link points at, if the link is valid for this schema."""
    links.download_token_check(token=token, schema=connection.schema_name, export_id=export_id)
    export = tenant_export_get(export_id=export_id)
    status = tenant_export_status(export=export)
    if status == Status.EXPIRED:
        raise ExportExpired("This export has expired. Ask for a new one.")
    if status != Status.READY:
        raise ExportNotReady("This export is not ready yet.")
    path = storage.file_path(connection.schema_name, export.file_name)
    if not path.is_file():
        raise ExportNotFound("Not found.")
    return export, path
