"""The archive an export writes: one JSON file per table, a manifest whose counts and
checksums match the files, a README, and nothing of any other licensee."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat

import psycopg
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from compliance.licensee import archive, selectors, services, storage
from compliance.licensee.archive import archive_write
from compliance.licensee.export_scope import export_plan, schema_tables
from compliance.licensee.models import TenantExport
from identity.models import User
from tenant_apps.advisors.models import Advisor
from tests.compliance.conftest import archive_files, archive_manifest
from tests.factories import password_hash
from tests.postgres_clients import database_url

pytestmark = pytest.mark.django_db


def export_now(schema: str) -> tuple[TenantExport, dict[str, bytes]]:
    with schema_context(schema):
        export = TenantExport.objects.create(requested_by_id=1)
        export = services.tenant_export_run(export_id=export.pk)
    assert export.status == "ready", export.error
    path = storage.file_path(schema, export.file_name)
    return export, archive_files(path.read_bytes())


def _people(schema: str, marker: str) -> None:
    with schema_context(schema):
        user = User.objects.create(
            email=f"{marker}@people.test",
            role="advisor",
            display_name=f"{marker} person",
            password=password_hash(),
        )
        Advisor.objects.create(
            user=user,
            display_name=f"{marker} advisor",
            bio=f"bio {marker}",
            rate_minor_per_minute=99,
        )


def test_manifest_counts_and_checksums_match_the_files(alpha):
    _people(alpha.schema_name, "mira-alpha")
    export, files = export_now(alpha.schema_name)
    manifest = archive_manifest(files)
    assert manifest["format"] == "callrix-tenant-export"
    assert manifest["licensee"]["slug"] == "alpha"
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(files) == set(listed) | {"manifest.json"}
    for path, entry in listed.items():
        assert hashlib.sha256(files[path]).hexdigest() == entry["sha256"], path
        assert len(files[path]) == entry["bytes"]
        if "table" in entry:
            rows = json.loads(files[path])
            assert len(rows) == entry["rows"], path
    users = json.loads(files["tables/identity_user.json"])
    assert {"mira-alpha@people.test", "owner@alpha.test"} <= {u["email"] for u in users}
    assert all("password" not in user for user in users)
    assert not any(password_hash().encode() in content for content in files.values())
    assert "password" in listed["tables/identity_user.json"]["omitted_columns"]
    # Every table of the schema is either in the archive or listed as left out, with why.
    exported = {entry["table"] for entry in listed.values() if "table" in entry}
    excluded = {entry["table"]: entry["reason"] for entry in manifest["excluded_tables"]}
    assert exported | set(excluded) == set(schema_tables(alpha.schema_name))
    assert all(excluded.values())
    assert manifest["totals"]["rows"] == export.row_count
    assert manifest["totals"]["tables"] == export.table_count == len(exported)
    readme = files["README.md"].decode()
    assert "Alpha Advice" in readme and "manifest.json" in readme
    assert "tables/identity_user.json" in readme


def test_nothing_of_one_licensee_appears_in_anothers_export(alpha, beta):
    _people(alpha.schema_name, "quill-of-alpha")
    _people(beta.schema_name, "fern-of-beta")
    _, beta_files = export_now(beta.schema_name)
    _, alpha_files = export_now(alpha.schema_name)
    beta_blob = b"".join(beta_files.values())
    alpha_blob = b"".join(alpha_files.values())
    assert b"fern-of-beta" in beta_blob and b"quill-of-alpha" in alpha_blob
    for marker in (b"quill-of-alpha", b"owner@alpha.test", b"Alpha Advice"):
        assert marker not in beta_blob
    for marker in (b"fern-of-beta", b"owner@beta.test", b"Beta Guidance"):
        assert marker not in alpha_blob
    assert archive_manifest(beta_files)["licensee"]["schema"] == "beta"


def test_the_archive_sits_in_the_schemas_private_folder_under_a_random_name(alpha, export_media):
    first, _ = export_now(alpha.schema_name)
    second, _ = export_now(alpha.schema_name)
    path = storage.file_path(alpha.schema_name, first.file_name)
    assert path.parent == export_media / "exports" / "alpha"
    # 32 URL-safe random characters (192 bits), fresh each time.
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}\.zip", first.file_name)
    assert first.file_name != second.file_name
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not list(path.parent.glob("*.part"))


def test_a_finished_export_is_not_run_again(alpha):
    export, _ = export_now(alpha.schema_name)
    with schema_context(alpha.schema_name):
        assert services.tenant_export_run(export_id=export.pk) is None
        assert TenantExport.objects.get(pk=export.pk).file_name == export.file_name


def test_rows_come_out_as_typed_json(alpha):
    _people(alpha.schema_name, "typed")
    _, files = export_now(alpha.schema_name)
    advisor = next(
        row
        for row in json.loads(files["tables/advisors_advisor.json"])
        if row["display_name"] == "typed advisor"
    )
    assert advisor["rate_minor_per_minute"] == 99
    assert advisor["categories"] == [] and advisor["suspended"] is False
    assert advisor["created_at"].endswith("+00:00")


def test_rows_stream_from_copy_in_blocks(alpha, tmp_path, monkeypatch):
    """tracemalloc (see test_export_memory) cannot see libpq's buffers; this shows rows are
    read from PostgreSQL's `COPY … TO STDOUT` (which libpq hands over a row at a time, never
    as a whole result) and written block by block: between blocks, a second connection sees
    the COPY as the exporting backend's statement. (The RSS figure of
    tests/benchmarks/test_export_vs_copy.py measures the memory at 1M rows.)"""
    monkeypatch.setattr(archive, "BLOCK_BYTES", 64)  # a block every row or two
    monkeypatch.setattr(archive, "RANGE_ROWS", 1)  # a line a row, for keyed tables too
    seen: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (exporting_pid,) = cursor.fetchone()
    with psycopg.connect(
        database_url(connection.settings_dict["NAME"]), autocommit=True
    ) as watcher:

        def watch(done: int, total: int) -> None:
            row = watcher.execute(
                "SELECT state, query FROM pg_stat_activity WHERE pid = %s", [exporting_pid]
            ).fetchone()
            seen.append(row)

        with schema_context(alpha.schema_name):
            archive_write(
                path=tmp_path / "alpha.zip",
                licensee=selectors.licensee_label(alpha.schema_name),
                plan=export_plan(alpha.schema_name),
                on_progress=watch,
            )
    copying = [
        query for _state, query in seen if query.startswith("COPY (") and "row_to_json(r)" in query
    ]
    # More blocks than tables: auth_permission alone (hundreds of rows) comes in many.
    assert len(copying) > len(export_plan(alpha.schema_name).tables), seen
    assert any('FROM "alpha"."auth_permission"' in query for query in copying)


def test_a_table_read_in_key_ranges_keeps_every_row_in_key_order(alpha, monkeypatch):
    """Tables with an integer key come in ranges of it joined by PostgreSQL; sparse keys (a
    gap of thousands) and ranges without rows lose nothing and keep the key order."""
    monkeypatch.setattr(archive, "RANGE_ROWS", 2)
    with schema_context(alpha.schema_name):
        for pk in (50_005, 50_006, 50_007, 59_000, 59_001, 70_000):
            Advisor.objects.create(
                id=pk,
                user=User.objects.create(email=f"range{pk}@people.test"),
                display_name=f"r{pk}",
                rate_minor_per_minute=99,
            )
    _, files = export_now(alpha.schema_name)
    rows = json.loads(files["tables/advisors_advisor.json"])
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert {50_005, 50_006, 50_007, 59_000, 59_001, 70_000} <= set(ids)
    assert [row["display_name"] for row in rows if row["id"] >= 59_000] == [
        "r59000",
        "r59001",
        "r70000",
    ]
