"""Where export archives live: `MEDIA_ROOT/exports/<schema>/<random>.zip`. Nothing serves
this folder; archives leave only through the signed, admin-only download."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from django.conf import settings

_FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{32}\.zip$")


def _folder(schema: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / schema


def file_new(schema: str) -> tuple[str, Path]:
    """A fresh file name and its path; the name (192 random bits) cannot be guessed from the
    export's id or time."""
    folder = _folder(schema)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(24)}.zip"
    return name, folder / name


def file_path(schema: str, file_name: str) -> Path:
    if not _FILE_NAME.match(file_name):
        raise ValueError(f"not an export file name: {file_name!r}")
    return _folder(schema) / file_name


def file_delete(schema: str, file_name: str) -> None:
    if file_name:
        file_path(schema, file_name).unlink(missing_ok=True)


def stray_files(schema: str, *, keep: set[str], older_than: float) -> list[Path]:
    """Files in the schema's folder that no export points at (e.g. a crashed run's
    partial archive), last changed before the `older_than` timestamp."""
    folder = _folder(schema)
    if not folder.is_dir():
        return []
    return [
        path
        for path in folder.iterdir()
        if path.is_file() and path.name not in keep and path.stat().st_mtime < older_than
    ]
