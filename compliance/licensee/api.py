"""Tenant exports for licensee admins."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.http import FileResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from ninja.responses import Status
from ninja.security import SessionAuth

from compliance.licensee import links, selectors, services
from identity.auth import ADMIN_ROLES, TokenAuth
from identity.errors import PermissionDenied
from kernel.inputs import Id, Line
from kernel.tenant_connection import connection
from kernel.throttling import LicenseeRateThrottle

admin_router = Router(tags=["admin"])


class AdminSessionAuth(SessionAuth):
    """A signed-in dashboard session of this licensee's admin or owner (for downloads
    started from a browser, where no bearer token rides along)."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None:
            return None
        if user.role not in ADMIN_ROLES:
            raise PermissionDenied("Your account may not do this.")
        return user


class ExportOut(Schema):
    id: int
    status: str
    progress: int
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    table_count: int
    row_count: int
    size_bytes: int | None
    sha256: str | None
    error: str | None
    download_url: str | None


def _export_out(request, export) -> dict:
    status = selectors.tenant_export_status(export=export)
    download_url = None
    if status == "ready":
        token = links.download_token_make(schema=connection.schema_name, export_id=export.pk)
        path = reverse("licensee_api:tenant_export_download", kwargs={"export_id": export.pk})
        download_url = request.build_absolute_uri(f"{path}?{urlencode({'token': token})}")
    return {
        "id": export.pk,
        "status": status,
        "progress": selectors.tenant_export_progress(export=export),
        "created_at": export.created_at,
        "finished_at": export.finished_at,
        "expires_at": export.expires_at,
        "table_count": export.table_count,
        "row_count": export.row_count,
        "size_bytes": export.size_bytes if status == "ready" else None,
        "sha256": export.sha256 or None,
        "error": export.error or None,
        "download_url": download_url,
    }


@admin_router.post(
    "/admin/exports",
    response={202: ExportOut},
    auth=TokenAuth(roles=ADMIN_ROLES),
    throttle=[LicenseeRateThrottle("export")],
)
def tenant_export_request(request):
    export = services.tenant_export_request(admin=request.auth)
    return Status(202, _export_out(request, export))


@admin_router.get("/admin/exports", response=list[ExportOut], auth=TokenAuth(roles=ADMIN_ROLES))
def tenant_export_list(request):
    return [_export_out(request, export) for export in selectors.tenant_export_list()]


@admin_router.get(
    "/admin/exports/{export_id}", response=ExportOut, auth=TokenAuth(roles=ADMIN_ROLES)
)
def tenant_export_get(request, export_id: Id):
    return _export_out(request, selectors.tenant_export_get(export_id=export_id))


@admin_router.get(
    "/admin/exports/{export_id}/download",
    auth=[TokenAuth(roles=ADMIN_ROLES), AdminSessionAuth()],
    url_name="tenant_export_download",
)
def tenant_export_download(request, export_id: Id, token: Line = Query(..., max_length=500)):
    export, path = selectors.tenant_export_file(export_id=export_id, token=token)
    finished = export.finished_at.strftime("%Y%m%d") if export.finished_at else ""  # ready: set
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{request.tenant.slug}-export-{export.pk}-{finished}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"  # a whole tenant's data: no copies
    return response
