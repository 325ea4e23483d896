"""deploy/backup: a real backup of the test database (pg_dump, restic into a local
repository), then one licensee restored alone into a scratch database and its ledger
verified there by `callrix ledger verify`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.wallets import services
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for
from tests.postgres_clients import client_bin_dir, database_url

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup" / "backup"
RESTORE = ROOT / "deploy" / "backup" / "restore-licensee"
CALLRIX = str(Path(sys.executable).with_name("callrix"))
MARKER = "restore-probe-ledger-marker-7f3a"

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pg_dump", "pg_restore", "psql", "restic")),
    reason="needs PostgreSQL's client tools and restic (.ci/run installs restic)",
)


def _run(script: Path, *args: str, env: dict[str, str], cwd: Path):
    return subprocess.run(
        [str(script), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def probe(throwaway_licensee):
    licensee = throwaway_licensee("restore-probe", "Restore Probe")
    with schema_context(licensee.schema_name):
        for n, amount in enumerate((2_500, 1_200)):
            services.ledger_post(
                idempotency_key=f"probe:{n}",
                kind="topup",
                description=MARKER,
                legs=[
                    Leg(account_for(kind=AccountKind.STRIPE_CLEARING), -amount),
                    Leg(account_for(kind=AccountKind.WALLET, owner_id=77), amount),
                ],
            )
    connection.set_schema_to_public()
    return licensee


@pytest.fixture
def environment(tmp_path, licensees):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url(),
        RESTIC_REPOSITORY=str(tmp_path / "repository"),
        RESTIC_PASSWORD="restore-test-passphrase",
        BACKUP_SPOOL=str(tmp_path / "spool"),
        CALLRIX=CALLRIX,
        # The scripts' pg_dump, pg_restore and psql: those of the test server's version.
        PATH=os.pathsep.join(
            str(folder)
            for folder in (Path(CALLRIX).parent, client_bin_dir(), os.environ["PATH"])
            if folder
        ),
    )
    env.pop("CALLRIX_TEST_DATABASE", None)
    return env


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def test_one_licensee_round_trips_through_an_encrypted_backup(
    probe, environment, tmp_path, committed
):
    scratch = "test_callrix_deploy_restore_probe"
    live = environment["DATABASE_URL"]
    _rows(live, f"DROP DATABASE IF EXISTS {scratch}")

    backed_up = _run(BACKUP, env=environment, cwd=tmp_path)
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    assert "licensee schema(s)" in backed_up.stdout and "shipped and pruned" in backed_up.stdout
    # Shipped encrypted, and no plain dump left behind on the server.
    assert not (tmp_path / "spool" / "current").exists()
    repository = [p for p in (tmp_path / "repository").rglob("*") if p.is_file()]
    assert repository
    assert not any(MARKER.encode() in p.read_bytes() for p in repository)

    try:
        restored = _run(
            RESTORE, "restore-probe", "--scratch-db", scratch, env=environment, cwd=tmp_path
        )
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "restore-probe: ledger clean" in restored.stdout

        url = database_url(scratch)
        schemas = {
            name
            for (name,) in _rows(url, "SELECT nspname FROM pg_namespace")
            if not name.startswith("pg_") and name != "information_schema"
        }
        # Only this licensee's schema came back: not alpha's, beta's or any spare's.
        assert schemas == {"public", "restore_probe"}
        assert _rows(url, "SELECT slug, display_name FROM public.tenants_licensee") == [
            ("restore-probe", "Restore Probe")
        ]
        assert _rows(url, "SELECT domain FROM public.tenants_domain") == [
            ("restore-probe.localhost",)
        ]
        query = (
            "SELECT count(*), sum(amount_minor) FILTER (WHERE amount_minor > 0) "
            "FROM restore_probe.wallets_ledgerentry"
        )
        assert _rows(url, query) == _rows(live, query) == [(4, 3_700)]
    finally:
        _rows(live, f"DROP DATABASE IF EXISTS {scratch}")


def test_restore_reports_a_licensee_the_backup_does_not_hold(environment, tmp_path, committed):
    dumped = _run(BACKUP, "--no-ship", env=environment, cwd=tmp_path)
    assert dumped.returncode == 0, dumped.stderr
    folder = tmp_path / "spool" / "current"
    assert (folder / "licensees" / "alpha.dump").exists()
    assert (folder / "licensees" / "beta.json").exists()

    missing = _run(
        RESTORE, "no-such-licensee", "--from", str(folder), env=environment, cwd=tmp_path
    )

    assert missing.returncode == 1
    assert "no licensee 'no-such-licensee' in this backup" in missing.stderr


def test_restore_refuses_a_tampered_dump(environment, tmp_path, committed):
    assert _run(BACKUP, "--no-ship", env=environment, cwd=tmp_path).returncode == 0
    folder = tmp_path / "spool" / "current"
    with (folder / "licensees" / "alpha.dump").open("ab") as dump:
        dump.write(b"tampered")

    result = _run(
        RESTORE,
        "alpha",
        "--from",
        str(folder),
        "--scratch-db",
        "test_callrix_deploy_never_made",
        env=environment,
        cwd=tmp_path,
    )

    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
    never = _rows(
        environment["DATABASE_URL"],
        "SELECT 1 FROM pg_database WHERE datname = 'test_callrix_deploy_never_made'",
    )
    assert never == []
