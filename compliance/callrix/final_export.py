"""A terminated licensee's final export (privacy policy §7: its data is kept 30 days after
termination "to allow for data export"). When a licensee is terminated a job writes its whole
tenant's archive and e-mails its owners a link to a page on Callrix's website — the
licensee's own hosts no longer serve. There an owner or admin of that licensee signs in with
their platform e-mail and password to download it, until the retention job drops the schema.
The link alone is not enough, as with every tenant export."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from compliance.callrix.errors import FinalExportDenied, FinalExportGone, FinalExportNotFound
from compliance.licensee import services, storage
from compliance.licensee.models import OPEN_STATUSES, TenantExport
from identity.auth import ADMIN_ROLES
from shared_apps.licensing import notices
from tenants import addresses
from tenants.models import Licensee
from tenants.selectors import licensee_get_by_schema, schema_exists

_SALT = "compliance.final-export"


def final_export_url(*, schema: str, export_id: int) -> str:
    token = signing.dumps({"schema": schema, "export": export_id}, salt=_SALT)
    path = reverse("final-export", urlconf="callrix.urls_public", kwargs={"token": token})
    return f"{addresses.public_origin()}{path}"


def _terminated_within_retention(licensee: Licensee | None) -> bool:
    return (
        licensee is not None
        and licensee.status == Licensee.Status.TERMINATED
        and licensee.data_retained_until is not None
        and timezone.now() < licensee.data_retained_until
        and schema_exists(schema_name=licensee.schema_name)
    )


def _final_archive(licensee: Licensee) -> TenantExport:
    """The ready archive of the licensee's final state, written now unless one exists."""
    until = licensee.data_retained_until
    export = (
        TenantExport.objects.filter(
            status=TenantExport.Status.READY,
            created_at__gte=licensee.terminated_at,
            expires_at__gte=until,
        )
        .order_by("-pk")
        .first()
    )
    if export is not None:
        return export
    owner = get_user_model().objects.filter(role="owner").order_by("pk").first()
    try:
        with transaction.atomic():
            export = TenantExport.objects.create(requested_by_id=owner.pk if owner else 0)
    except IntegrityError:  # an admin's export was under way: it becomes the final one
        export = TenantExport.objects.get(status__in=OPEN_STATUSES)
    services.tenant_export_run(export_id=export.pk)
    export.refresh_from_db()
    if export.status != TenantExport.Status.READY:
        raise RuntimeError(f"the final export {export.pk} ended {export.status}: {export.error}")
    # Kept as long as the data it copies, not the usual seven days.
    TenantExport.objects.filter(pk=export.pk).update(expires_at=until)
    export.expires_at = until
    return export


def final_export_prepare(*, licensee_id: int) -> TenantExport | None:
    """Write the final archive and e-mail its link to the licensee's owners (safe to run
    twice: an existing final archive is reused). None when there is nothing to offer."""
    with schema_context("public"):
        licensee = Licensee.objects.filter(pk=licensee_id).first()
    if not _terminated_within_retention(licensee):
        return None
    recipients = notices.owner_emails(licensee)
    with tenant_context(licensee):
        export = _final_archive(licensee)
    if recipients:
        link = final_export_url(schema=licensee.schema_name, export_id=export.pk)
        send_mail(
            subject=f"Your final data export of {licensee.display_name} is ready",
            message=(
                f"The final export of everything on {licensee.display_name} (users, advisors, "
                "calls, payments and every other table, as JSON files in a ZIP with a "
                "manifest) is ready:\n\n"
                f"{link}\n\n"
                "Open the link and sign in with the e-mail address and password of an owner "
                "or admin of the platform to download it. It can be downloaded until "
                f"{licensee.data_retained_until:%d %B %Y}; after that the data is deleted for "
                f"good. Questions? Write to {notices.CALLRIX_CONTACT}.\n"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    return export


def _claims(token: str) -> dict:
    try:
        claims = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise FinalExportNotFound("Not found.") from None
    if set(claims) != {"schema", "export"}:
        raise FinalExportNotFound("Not found.")
    return claims


def final_export_check(*, token: str) -> Licensee:
    """The licensee a final-export link is for, while its export can still be downloaded."""
    claims = _claims(token)
    licensee = licensee_get_by_schema(schema_name=claims["schema"])
    if licensee is None:
        raise FinalExportGone("This platform's data has been deleted; there is no export any more.")
    if not _terminated_within_retention(licensee):
        if licensee.status != Licensee.Status.TERMINATED:
            raise FinalExportNotFound("Not found.")
        raise FinalExportGone("This platform's data has been deleted; there is no export any more.")
    return licensee


def final_export_file(
    *, token: str, email: str, password: str
) -> tuple[Licensee, TenantExport, Path]:
    """The archive behind a final-export link, for an owner or admin of that licensee."""
    licensee = final_export_check(token=token)
    export_id = _claims(token)["export"]
    with tenant_context(licensee):
        user = (
            get_user_model()
            .objects.filter(email=(email or "").strip().lower(), is_active=True)
            .filter(role__in=ADMIN_ROLES)
            .first()
        )
        if user is None or not user.check_password(password or ""):
            raise FinalExportDenied(
                "The e-mail address or password is wrong, or the account is not an owner or "
                "admin of this platform.",
                field="password",
            )
        export = TenantExport.objects.filter(pk=export_id, status=TenantExport.Status.READY).first()
        if export is None:
            raise FinalExportNotFound("Not found.")
        path = storage.file_path(licensee.schema_name, export.file_name)
    if not path.is_file():
        raise FinalExportNotFound("Not found.")
    return licensee, export, path
