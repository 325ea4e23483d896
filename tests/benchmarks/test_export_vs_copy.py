"""Tenant export speed and memory at 1M rows (issue 17): the whole export (`archive_write`:
every exported table as JSON in a deflated ZIP, with manifest and checksums) against the
plainest dump of the same tables, `COPY (SELECT <the exported columns>) TO STDOUT` read by the
same process and piped into `gzip -6` (deflate at the ZIP's level, in a process of its own, as
the issue measured it), in the same run in alternating rounds.

- `export_vs_copy`: COPY time / export time (higher is better; goal 0.8);
- `export_rss_growth_mb_1m_rows`: the process's peak resident memory during the export above
  what it used before (sampled every 5 ms from /proc; goal < 20 MB).

The rows are ledger transactions and their entries (a third and two thirds of 1M), made by
set-based SQL in a throwaway licensee whose schema is dropped afterwards (ledger rows cannot be
deleted).
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from django.db import connection
from django_tenants.utils import tenant_context

from compliance.licensee.archive import archive_write
from compliance.licensee.export_scope import export_plan
from compliance.licensee.selectors import licensee_label
from tenant_apps.wallets.models import AccountKind, LedgerAccount

ROWS = 1_000_000
ROUNDS = 3
LEVEL = 6  # zipfile's compresslevel in the export
BLOCK = 1 << 20


def _add_rows(source: int, wallet: int) -> None:
    transactions = ROWS // 3
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wallets_ledgertransaction "
            "(idempotency_key, kind, description, metadata, legs_digest, created_at) "
            "SELECT 'bulk-' || g, 'topup', 'Top-up by card ' || g, "
            "jsonb_build_object('topup', g), md5(g::text) || md5(g::text), "
            "now() - g * interval '1 second' FROM generate_series(1, %s) g",
            [transactions],
        )
        cursor.execute(
            "INSERT INTO wallets_ledgerentry "
            "(transaction_id, account_id, amount_minor, created_at) "
            "SELECT t.id, leg.account_id, leg.sign * (100 + t.id %% 900), t.created_at "
            "FROM wallets_ledgertransaction t "
            "CROSS JOIN (VALUES (%s, -1), (%s, 1)) AS leg(account_id, sign)",
            [source, wallet],
        )
        cursor.execute("ANALYZE wallets_ledgertransaction")
        cursor.execute("ANALYZE wallets_ledgerentry")


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


class _PeakRss:
    """The highest resident set size seen while the block runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_kb())

    def __enter__(self) -> _PeakRss:
        self.peak = _rss_kb()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_kb())


def _export(schema: str, folder: Path, round_no: int) -> tuple[float, int, int]:
    """Seconds, rows written and the ZIP's size."""
    plan = export_plan(schema)
    start = time.perf_counter()
    summary = archive_write(
        path=folder / f"export-{round_no}.zip", licensee=licensee_label(schema), plan=plan
    )
    return time.perf_counter() - start, summary.row_count, summary.size_bytes


def _copy(schema: str, folder: Path, round_no: int) -> tuple[float, int, int]:
    """Seconds, rows copied and the compressed size: every exported table's columns through
    COPY's text format, piped into `gzip -6` as the issue measured it (the ZIP's deflate at
    the same level, in a process of its own)."""
    plan = export_plan(schema)
    rows = 0
    path = folder / f"copy-{round_no}.gz"
    start = time.perf_counter()
    with path.open("wb") as target, connection.cursor() as cursor:
        gzip = subprocess.Popen(["gzip", f"-{LEVEL}"], stdin=subprocess.PIPE, stdout=target)
        assert gzip.stdin is not None
        for table in plan.tables:
            columns = ", ".join(f'"{column}"' for column in table.columns)
            sql = f'COPY (SELECT {columns} FROM "{schema}"."{table.name}") TO STDOUT'
            block = bytearray()
            with cursor.cursor.copy(sql) as copy:
                for line in copy:
                    block += line
                    if len(block) >= BLOCK:
                        rows += block.count(b"\n")
                        gzip.stdin.write(block)
                        block.clear()
            rows += block.count(b"\n")
            gzip.stdin.write(block)
        gzip.stdin.close()
        assert gzip.wait(timeout=600) == 0
    return time.perf_counter() - start, rows, path.stat().st_size


def test_export_vs_copy(throwaway_licensee):
    licensee = throwaway_licensee("export-bench", "Export Bench")
    with tenant_context(licensee), tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = LedgerAccount.objects.create(kind=AccountKind.STRIPE_CLEARING, currency="EUR")
        wallet = LedgerAccount.objects.create(kind=AccountKind.WALLET, owner_id=1, currency="EUR")
        started = time.perf_counter()
        _add_rows(source.pk, wallet.pk)
        made_s = time.perf_counter() - started
        schema = licensee.schema_name
        _export(schema, folder, 0)  # warm-up: templates, imports, the catalog, the cache
        _copy(schema, folder, 0)

        export_s, copy_s, growth_mb = [], [], []
        for round_no in range(1, 1 + ROUNDS):
            for side in ("export", "copy") if round_no % 2 else ("copy", "export"):
                gc.collect()
                if side == "export":
                    before = _rss_kb()
                    with _PeakRss() as rss:
                        seconds, exported, zip_bytes = _export(schema, folder, round_no)
                    export_s.append(seconds)
                    growth_mb.append((rss.peak - before) / 1024)
                else:
                    seconds, copied, copy_bytes = _copy(schema, folder, round_no)
                    copy_s.append(seconds)
            for leftover in folder.iterdir():
                leftover.unlink()

        # The export holds every row the COPY did, as a JSON array per table.
        assert exported == copied >= ROWS
        _export(schema, folder, 99)
        with zipfile.ZipFile(folder / "export-99.zip") as archive:
            entries = archive.read("tables/wallets_ledgerentry.json")
        assert entries.count(b'"amount_minor":') == 2 * (ROWS // 3)

    ratio = statistics.median(copy_s) / statistics.median(export_s)
    growth = max(growth_mb)
    print(
        f"\nTenant export at {exported:,} rows ({ROWS // 3:,} ledger transactions, "
        f"{2 * (ROWS // 3):,} entries, made in {made_s:.1f} s), {ROUNDS} alternating rounds:"
    )
    print(
        f"  export (ZIP of JSON, deflate level {LEVEL}): median "
        f"{statistics.median(export_s):.2f} s, rounds {', '.join(f'{s:.2f}' for s in export_s)};"
        f" archive {zip_bytes / 1e6:.1f} MB"
    )
    print(
        f"  COPY … TO STDOUT (text) | gzip -{LEVEL}: median "
        f"{statistics.median(copy_s):.2f} s, rounds {', '.join(f'{s:.2f}' for s in copy_s)}; "
        f"{copy_bytes / 1e6:.1f} MB"
    )
    print(f"  export RSS growth per round: {', '.join(f'{mb:.1f}' for mb in growth_mb)} MB")
    print(f"BENCH export_vs_copy {ratio:.2f} goal 0.8")
    print(f"BENCH export_rss_growth_mb_1m_rows {growth:.1f} goal 20")
