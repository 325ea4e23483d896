"""Writes a tenant export: a ZIP of one JSON file per exported table, a README.md and a
manifest.json with row counts and SHA-256 checksums.

Memory stays flat whatever the tenant's size: rows come from a server-side cursor in
batches, PostgreSQL renders each row as JSON text (`row_to_json`), and the text goes straight
into a deflated ZIP entry. All tables are read in one REPEATABLE READ snapshot, so a ledger
entry never points at a transaction missing from the archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from django.db import connection, transaction
from django.template.loader import render_to_string

from compliance.licensee.export_scope import ExportPlan, TablePlan

FORMAT_NAME = "callrix-tenant-export"
FORMAT_VERSION = 1
BATCH_ROWS = 2_000

# (rows written so far, rows in all exported tables)
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class LicenseeLabel:
    slug: str
    name: str
    schema: str
    currency: str


@dataclass(frozen=True)
class ArchivedFile:
    path: str
    sha256: str
    bytes: int
    table: str | None = None
    rows: int | None = None
    omitted_columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ArchiveSummary:
    sha256: str  # of the ZIP itself
    size_bytes: int
    table_count: int
    row_count: int
    files: tuple[ArchivedFile, ...]


class _CountingWriter:
    """Hashes and counts the bytes going into one ZIP entry."""

    def __init__(self, entry: IO[bytes]) -> None:
        self.entry = entry
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.entry.write(data)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_sql(schema: str, table: str) -> str:
    return f"{_ident(schema)}.{_ident(table)}"


def _rows_sql(schema: str, plan: TablePlan) -> str:
    columns = ", ".join(_ident(column) for column in plan.columns)
    order = ", ".join(f"r.{_ident(column)}" for column in plan.order_by)
    return (
        f"SELECT row_to_json(r)::text FROM (SELECT {columns} "
        f"FROM {_table_sql(schema, plan.name)}) r" + (f" ORDER BY {order}" if order else "")
    )


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent, read-only view of the schema (inside a caller's transaction, that
    transaction's view)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _row_count(schema: str, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_table_sql(schema, table)}")
        return cursor.fetchone()[0]


def _write_table(
    archive: zipfile.ZipFile, schema: str, plan: TablePlan, advance: Callable[[int], None]
) -> ArchivedFile:
    path = f"tables/{plan.name}.json"
    rows = 0
    # force_zip64: the entry's size is unknown up front and may pass 4 GiB.
    with archive.open(path, "w", force_zip64=True) as entry:
        out = _CountingWriter(entry)
        out.write(b"[")
        with connection.chunked_cursor() as cursor:
            cursor.execute(_rows_sql(schema, plan))
            while batch := cursor.fetchmany(BATCH_ROWS):
                text = ",\n".join(row[0] for row in batch)
                out.write((",\n" if rows else "\n").encode() + text.encode())
                rows += len(batch)
                advance(len(batch))
        out.write(b"\n]\n")
    return ArchivedFile(
        path=path,
        sha256=out.digest.hexdigest(),
        bytes=out.size,
        table=plan.name,
        rows=rows,
        omitted_columns=dict(plan.omitted_columns),
    )


def _write_text(archive: zipfile.ZipFile, path: str, text: str) -> ArchivedFile:
    data = text.encode()
    archive.writestr(path, data)
    return ArchivedFile(path=path, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))


def _manifest_entry(archived: ArchivedFile) -> dict:
    entry = {"path": archived.path, "sha256": archived.sha256, "bytes": archived.bytes}
    if archived.table:
        entry.update(
            table=archived.table, rows=archived.rows, omitted_columns=archived.omitted_columns
        )
    return entry


def _manifest(
    *, licensee: LicenseeLabel, plan: ExportPlan, exported_at: datetime, files: list
) -> dict:
    tables = [f for f in files if f.table]
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "licensee": asdict(licensee),
        "exported_at": exported_at.isoformat(),
        "files": [_manifest_entry(f) for f in files],
        "excluded_tables": [
            {"table": table, "reason": reason} for table, reason in plan.excluded.items()
        ],
        "totals": {"tables": len(tables), "rows": sum(f.rows for f in tables)},
    }


def _write_archive(
    target: IO[bytes],
    *,
    licensee: LicenseeLabel,
    plan: ExportPlan,
    on_progress: ProgressCallback | None,
) -> list[ArchivedFile]:
    with _snapshot():
        exported_at = datetime.now(UTC)  # the snapshot is taken by the next query
        total = sum(_row_count(plan.schema, table.name) for table in plan.tables)
        done = 0

        def advance(rows: int) -> None:
            nonlocal done
            done += rows
            if on_progress:
                on_progress(done, total)

        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            readme = render_to_string(
                "compliance/export_readme.md",
                {"licensee": licensee, "plan": plan, "exported_at": exported_at},
            )
            files = [_write_text(archive, "README.md", readme)]
            for table in plan.tables:
                files.append(_write_table(archive, plan.schema, table, advance))
            manifest = _manifest(licensee=licensee, plan=plan, exported_at=exported_at, files=files)
            _write_text(archive, "manifest.json", json.dumps(manifest, indent=2) + "\n")
    if on_progress:
        on_progress(total, total)
    return files


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def archive_write(
    *,
    path: Path,
    licensee: LicenseeLabel,
    plan: ExportPlan,
    on_progress: ProgressCallback | None = None,
) -> ArchiveSummary:
    """Write the archive to `path`, which appears only when complete (readable by the owner
    of the process alone)."""
    partial = path.with_name(path.name + ".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w+b") as target:
            files = _write_archive(target, licensee=licensee, plan=plan, on_progress=on_progress)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    tables = [f for f in files if f.table]
    return ArchiveSummary(
        sha256=_file_sha256(path),
        size_bytes=path.stat().st_size,
        table_count=len(tables),
        row_count=sum(f.rows or 0 for f in tables),
        files=tuple(files),
    )
