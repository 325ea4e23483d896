"""Writes a tenant export: a ZIP of one JSON file per exported table, a README.md and a
manifest.json with row counts and SHA-256 checksums.

Memory stays flat whatever the tenant's size: PostgreSQL renders each row as JSON text
(`row_to_json`) and streams a table with `COPY … TO STDOUT`; the bytes go in blocks straight
into a deflated ZIP entry, with no Python work per row. All tables are read in one REPEATABLE
READ snapshot, so a ledger entry never points at a transaction missing from the archive.
Entries are deflated over several threads (`compliance/licensee/deflate.py`), the same
deflate at the same level.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from django.db import connection, transaction
from django.template.loader import render_to_string

from compliance.licensee.deflate import BlockDeflate
from compliance.licensee.export_scope import ExportPlan, TablePlan

FORMAT_NAME = "callrix-tenant-export"
FORMAT_VERSION = 1
BLOCK_BYTES = 1 << 19  # COPY lines gathered before they go to the compressor together
COMPRESS_LEVEL = 6
RANGE_ROWS = 1_000  # rows PostgreSQL joins into one line, for tables with an integer key
# COPY's CSV format with quote and delimiter bytes that JSON text never holds (row_to_json
# escapes every control character), so each line is a row's JSON exactly as PostgreSQL
# rendered it: no quoting, and unlike the text format no backslash doubling to undo.
COPY_OPTIONS = "(FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"

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
        self.count(data)
        self.entry.write(data)

    def count(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)


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


def _ranges_sql(schema: str, plan: TablePlan, low: int, high: int, width: int) -> str:
    """The rows as JSON text, one per line, joined in PostgreSQL into one value per
    `width` wide range of the integer key, in key order: a thousand-odd rows cross to Python
    at a time instead of one, and each range is an index range scan, so nothing is sorted or
    held whole."""
    key = _ident(plan.integer_key or "")
    columns = ", ".join(_ident(column) for column in plan.columns)
    return (
        f"SELECT (SELECT string_agg(row_to_json(r)::text, E'\\n' ORDER BY r.{key}) "
        f"FROM (SELECT {columns} FROM {_table_sql(schema, plan.name)} "
        f"WHERE {key} >= lo AND {key} < lo + {int(width)}) r) AS rows "
        f"FROM generate_series({int(low)}::bigint, {int(high)}::bigint, {int(width)}) AS lo "
        f"ORDER BY lo"
    )


def _copy_blocks(sql: str, wrapped: bool) -> Iterator[bytes]:
    """What `sql` returns through COPY, lines gathered into blocks. Each line is one value
    ending in a newline; `wrapped` values come between QUOTE bytes (FORCE_QUOTE), taken off
    here."""
    options = COPY_OPTIONS[:-1] + (", FORCE_QUOTE *)" if wrapped else ")")
    block = bytearray()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT {options}") as copy:
            for line in copy:
                if wrapped:
                    if len(line) > 1:  # a range without rows is NULL: an empty line
                        block += line[1:-2]
                        block += b"\n"
                else:
                    block += line
                if len(block) >= BLOCK_BYTES:
                    yield bytes(block)
                    block.clear()
    if block:
        yield bytes(block)


def _json_lines(schema: str, plan: TablePlan) -> Iterator[bytes]:
    """The table's rows as JSON in key order, in blocks of whole lines; a line ends in a
    newline, and so does every row in it."""
    if plan.integer_key is None:
        yield from _copy_blocks(_rows_sql(schema, plan), wrapped=False)
        return
    with connection.cursor() as cursor:
        key = _ident(plan.integer_key)
        cursor.execute(
            f"SELECT min({key}), max({key}), count(*) FROM {_table_sql(schema, plan.name)}"
        )
        low, high, count = cursor.fetchone()
    if not count:
        return
    # Ranges of about RANGE_ROWS rows, however sparse the keys.
    width = max(1, (high - low + 1) * RANGE_ROWS // count)
    yield from _copy_blocks(_ranges_sql(schema, plan, low, high, width), wrapped=True)


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent, read-only view of the schema (inside a caller's transaction, that
    transaction's view)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if outermost:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # The range queries look costly to the planner, whose JIT compilation then takes
            # longer than it saves (a third more time at 1M rows); for this transaction only.
            cursor.execute("SET LOCAL jit = off")
        yield


def _row_count(schema: str, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_table_sql(schema, table)}")
        return cursor.fetchone()[0]


@contextmanager
def _in_background(write: Callable[[bytes], object]) -> Iterator[Callable[[bytes], None]]:
    """`write` on a second thread, so hashing and deflating a block (which release the
    interpreter lock) overlap with reading the next one from PostgreSQL, as a shell pipeline
    `COPY … | gzip` overlaps them. At most two blocks wait, so memory stays flat."""
    blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
    failures: list[BaseException] = []

    def drain() -> None:
        while (block := blocks.get()) is not None:
            if not failures:
                try:
                    write(block)
                except BaseException as error:  # re-raised on the exporting thread
                    failures.append(error)

    writer = threading.Thread(target=drain, name="export-writer", daemon=True)
    writer.start()

    def put(block: bytes) -> None:
        if failures:
            raise failures[0]
        blocks.put(block)

    try:
        yield put
    finally:
        blocks.put(None)
        writer.join()
    if failures:
        raise failures[0]


def _write_table(
    archive: zipfile.ZipFile, schema: str, plan: TablePlan, advance: Callable[[int], None]
) -> ArchivedFile:
    path = f"tables/{plan.name}.json"
    rows = 0
    # force_zip64: the entry's size is unknown up front and may pass 4 GiB.
    with archive.open(path, "w", force_zip64=True) as entry:
        # zipfile deflates an entry on one core through its `_compressor` (zlib's interface);
        # the same deflate at the same level, spread over cores, keeps up with PostgreSQL.
        entry._compressor = BlockDeflate(level=COMPRESS_LEVEL)  # type: ignore[attr-defined]
        out = _CountingWriter(entry)
        out.write(b"[")
        # The reading thread hashes (it mostly waits for PostgreSQL); the other deflates.
        with _in_background(entry.write) as deflate:
            for block in _json_lines(schema, plan):
                # A JSON array of the rows, joined by ",\n" (JSON text holds no raw newline,
                # so every "\n" ends a row).
                count = block.count(b"\n")
                data = (b",\n" if rows else b"\n") + block[:-1].replace(b"\n", b",\n")
                out.count(data)
                deflate(data)
                rows += count
                advance(count)
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

        with zipfile.ZipFile(
            target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
        ) as archive:
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
