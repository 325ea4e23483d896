"""The 1,000-licensee rehearsal's extra figures (issue 17 item 5), measured at each step of
`test_thousand_licensees.py` on the licensees it made: `callrix ledger verify` over all of
them, the scheduler's nightly per-licensee fan-out, and the backup with one licensee's
restore. Each is printed as `REHEARSAL <figure> <licensees> <value>`.

The backup is measured as `deploy/backup/backup` dumps without restic (the shipping step is
restic's, and the machine may have none): the whole database's `pg_dump -Fc`, and one
licensee's own files (its schema's dump, the public structure and reference rows, its rows as
JSON) written with the script's commands. That licensee is then restored alone by
`deploy/backup/restore-licensee --from`, which ends with `callrix ledger verify` in the
scratch database, as an operator restores one.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.core.management import call_command
from django_tenants.utils import tenant_context

from compliance.callrix.tasks import retention_run_all
from shared_apps.licensing.tasks import dunning_run_all
from tenant_apps.calls.tasks import chat_messages_expire, chat_messages_expire_all
from tenant_apps.wallets.tasks import ledger_verify_all
from tenants import bridge
from tests.postgres_clients import client_bin_dir, database_url

ROOT = Path(__file__).resolve().parents[2]
RESTORE = ROOT / "deploy" / "backup" / "restore-licensee"
CALLRIX = str(Path(sys.executable).with_name("callrix"))
# The licensee row and its domains, exactly as deploy/backup/backup writes <slug>.json.
LICENSEE_JSON = """SELECT json_build_object(
  'licensee', row_to_json(l),
  'domains', (SELECT coalesce(json_agg(d ORDER BY d.id), '[]'::json)
              FROM public.tenants_domain d WHERE d.tenant_id = l.id))
FROM public.tenants_licensee l WHERE l.slug = :'slug';"""


@dataclass
class Figures:
    """Seconds per figure and step, printed in the order measured."""

    rows: list[tuple[str, int, float, str]] = field(default_factory=list)

    def add(self, figure: str, licensees: int, value: float, note: str = "") -> None:
        self.rows.append((figure, licensees, value, note))
        print(f"\n  ({licensees} licensees: {figure} {value:.2f}{note})", flush=True)

    def lines(self) -> list[str]:
        return [
            f"REHEARSAL {figure} {licensees} {value:.2f}" + (f"  ({note.strip()})" if note else "")
            for figure, licensees, value, note in self.rows
        ]


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def ledger_verify_all_licensees(figures: Figures, step: int) -> None:
    """`callrix ledger verify` with no --licensee: every licensee's books, one by one."""
    out = io.StringIO()
    seconds = _timed(lambda: call_command("ledger", "verify", stdout=out))
    clean = out.getvalue().count(": ledger clean")
    assert clean >= step, out.getvalue()[-2000:]
    figures.add("ledger_verify_all_s", step, seconds, f"  {clean} ledgers clean")


def _chat_expire_each() -> None:
    """The per-licensee actor body of the chat fan-out, in each serving licensee's schema (no
    worker runs in the benchmark; the jobs it enqueued go with the run's Redis prefix)."""
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            chat_messages_expire.fn()


def nightly_fanout(figures: Figures, step: int) -> None:
    """The scheduler's nightly jobs that go over every licensee (platform/callrix/schedule.py),
    their actor bodies run in this process one after another as one worker thread would:
    the ledger check, dunning, retention, and the chat expiry fan-out (enqueued, then each
    licensee's job body). The usage and overage jobs report to Stripe and are left out."""
    parts = {
        "ledger": _timed(ledger_verify_all.fn),
        "dunning": _timed(dunning_run_all.fn),
        "retention": _timed(retention_run_all.fn),
        "chat enqueue": _timed(chat_messages_expire_all.fn),
        "chat jobs": _timed(_chat_expire_each),
    }
    detail = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts.items())
    figures.add("nightly_fanout_s", step, sum(parts.values()), f"  {detail}")


def _tool(name: str) -> str:
    folder = client_bin_dir()
    return str(folder / name) if folder else name


def _dump(url: str, target: Path, *options: str) -> None:
    subprocess.run(
        [_tool("pg_dump"), "--format=custom", *options, f"--file={target}", f"--dbname={url}"],
        check=True,
        capture_output=True,
        timeout=1800,
    )


def _licensee_backup(url: str, folder: Path, slug: str, schema: str) -> None:
    """The files deploy/backup/backup writes that a one-licensee restore reads."""
    (folder / "licensees").mkdir(parents=True)
    _dump(url, folder / "public-schema.dump", "--schema-only", "--schema=public")
    _dump(
        url,
        folder / "public-reference.dump",
        "--data-only",
        "--table=public.django_migrations",
        "--table=public.django_content_type",
    )
    _dump(url, folder / "licensees" / f"{slug}.dump", f"--schema={schema}")
    record = subprocess.run(
        [_tool("psql"), "--no-psqlrc", "--quiet", "--tuples-only", "--no-align"]
        + [f"--dbname={url}", "--set=ON_ERROR_STOP=1", f"--set=slug={slug}"],
        input=LICENSEE_JSON,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    (folder / "licensees" / f"{slug}.json").write_text(record.stdout)
    sums = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  ./{path.relative_to(folder)}"
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def _restore_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.pop("CALLRIX_TEST_DATABASE", None)
    folders = (Path(CALLRIX).parent, client_bin_dir(), os.environ["PATH"])
    env.update(
        DATABASE_URL=url,
        CALLRIX=CALLRIX,
        PATH=os.pathsep.join(str(folder) for folder in folders if folder),
    )
    return env


def _dump_failure(failed: subprocess.CalledProcessError) -> str:
    """pg_dump's error and hint, with the server's lock table size; its "Query was" line
    lists every table it had locked (thousands), so only its first one is kept."""
    lines = failed.stderr.decode(errors="replace").strip().splitlines()
    kept = [line for line in lines if "Query was" not in line][-2:]
    queries = [line for line in lines if "Query was" in line]
    if queries:
        kept.append(queries[0].split(",")[0][:160] + ", …")
    with psycopg.connect(database_url(), autocommit=True) as live:
        row = live.execute("SHOW max_locks_per_transaction").fetchone()
    locks = row[0] if row else "?"
    return " | ".join(kept) + f" (server max_locks_per_transaction {locks})"


def backup_and_restore(figures: Figures, step: int, slug: str, schema: str) -> None:
    """The whole database dumped, then one licensee's files, then that licensee restored
    alone into a scratch database (dropped after) and its ledger verified there."""
    url = database_url()
    with tempfile.TemporaryDirectory(prefix="rehearsal-backup-") as spool:
        whole = Path(spool) / "callrix.dump"
        start = time.perf_counter()
        try:
            _dump(url, whole)
        except subprocess.CalledProcessError as failed:
            # One pg_dump locks every table of every schema in one transaction: past the
            # server's lock table (max_locks_per_transaction x connections) it fails. That is
            # a finding of the rehearsal, reported, not a reason to skip the restore.
            seconds = time.perf_counter() - start
            figures.add("backup_dump_all_s", step, seconds, f"  FAILED: {_dump_failure(failed)}")
        else:
            seconds = time.perf_counter() - start
            size = whole.stat().st_size / 1_000_000
            figures.add("backup_dump_all_s", step, seconds, f"  pg_dump -Fc, {size:.1f} MB")
        folder = Path(spool) / "current"
        seconds = _timed(lambda: _licensee_backup(url, folder, slug, schema))
        figures.add("backup_one_licensee_s", step, seconds)
        scratch = f"rehearsal_restore_{step}"
        with psycopg.connect(url, autocommit=True) as live:  # left by an interrupted run
            live.execute(f"DROP DATABASE IF EXISTS {scratch}")
        start = time.perf_counter()
        restored = subprocess.run(
            [str(RESTORE), slug, "--from", str(folder), "--scratch-db", scratch, "--drop"],
            env=_restore_env(url),
            capture_output=True,
            text=True,
            timeout=900,
        )
        seconds = time.perf_counter() - start
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"{slug}: ledger clean" in restored.stdout, restored.stdout
    figures.add("restore_one_licensee_s", step, seconds, "  restore-licensee --from, verified")
