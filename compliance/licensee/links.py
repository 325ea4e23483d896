"""Signed download links for export archives: valid 24 hours, for one export of one
schema. The link alone is not enough: the download also needs an admin of that licensee."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

from compliance.licensee.errors import DownloadLinkExpired, DownloadLinkInvalid

LINK_LIFETIME = timedelta(hours=24)
_SALT = "compliance.tenant-export-download"


def download_token_make(*, schema: str, export_id: int) -> str:
    return signing.dumps({"schema": schema, "export": export_id}, salt=_SALT)


def download_token_check(*, token: str, schema: str, export_id: int) -> None:
    try:
        claims = signing.loads(token, salt=_SALT, max_age=LINK_LIFETIME)
    except signing.SignatureExpired:
        raise DownloadLinkExpired(
            "This download link has expired. Ask for the export again to get a fresh link.",
            field="token",
        ) from None
    except signing.BadSignature:
        raise DownloadLinkInvalid("Not found.") from None
    if claims != {"schema": schema, "export": export_id}:
        raise DownloadLinkInvalid("Not found.")
