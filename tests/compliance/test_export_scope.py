"""Every table of a tenant schema is exported or excluded with a reason — checked against the
database catalog, so a table nobody decided on stops the export."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from compliance.licensee import services
from compliance.licensee.errors import ExportScopeIncomplete
from compliance.licensee.export_scope import (
    EXCLUDED_TABLES,
    EXPORTED_TABLES,
    export_plan,
    schema_tables,
    tables_undecided,
)
from compliance.licensee.models import TenantExport

pytestmark = pytest.mark.django_db


def test_every_table_of_a_fresh_tenant_schema_has_a_decision(alpha):
    tables = schema_tables(alpha.schema_name)
    assert "identity_user" in tables and "wallets_ledgerentry" in tables
    assert tables_undecided(alpha.schema_name) == []


def test_decisions_are_disjoint_and_every_exclusion_says_why():
    assert not set(EXPORTED_TABLES) & set(EXCLUDED_TABLES)
    for table, reason in EXCLUDED_TABLES.items():
        assert len(reason) > 20, table
    for table, rule in EXPORTED_TABLES.items():
        for column, reason in rule.omitted_columns.items():
            assert len(reason) > 20, f"{table}.{column}"


def test_secrets_stay_behind(alpha):
    plan = export_plan(alpha.schema_name)
    exported = {table.name: table for table in plan.tables}
    assert "password" not in exported["identity_user"].columns
    assert "email" in exported["identity_user"].columns
    assert "client_secret" not in exported["payments_topup"].columns
    for secret_table in (
        "payments_stripeconnection",
        "notifications_firebaseproject",
        "django_session",
        "token_blacklist_outstandingtoken",
    ):
        assert secret_table not in exported and secret_table in plan.excluded
    assert set(exported) | set(plan.excluded) == set(schema_tables(alpha.schema_name))


@pytest.fixture
def undecided_table(alpha):
    """A table made by raw SQL in alpha's schema, rolled back with the test."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "{alpha.schema_name}".loyalty_points (id int, note text)')
    return "loyalty_points"


def test_a_new_table_without_a_decision_fails_the_check_by_name(alpha, undecided_table):
    assert tables_undecided(alpha.schema_name) == [undecided_table]
    with pytest.raises(ExportScopeIncomplete) as refused:
        export_plan(alpha.schema_name)
    assert refused.value.undecided_tables == [undecided_table]
    assert undecided_table in refused.value.detail


def test_the_export_job_refuses_and_names_the_undecided_table(alpha, undecided_table):
    with schema_context(alpha.schema_name):
        export = TenantExport.objects.create(requested_by_id=1)
        finished = services.tenant_export_run(export_id=export.pk)
    assert finished.status == "failed"
    assert undecided_table in finished.error
    assert finished.file_name == ""


def test_the_export_command_refuses_and_names_the_undecided_table(alpha, undecided_table, tmp_path):
    out = tmp_path / "alpha.zip"
    with pytest.raises(CommandError, match=undecided_table):
        call_command("export", "tenant", "alpha", "--out", str(out), stdout=StringIO())
    assert not out.exists()


def test_a_rule_leaving_out_a_column_the_table_lost_stops_the_export(alpha):
    # A renamed password column would otherwise be exported under its new name.
    with connection.cursor() as cursor:
        cursor.execute(
            f'ALTER TABLE "{alpha.schema_name}".identity_user RENAME password TO pw_hash'
        )
    with pytest.raises(ExportScopeIncomplete, match="identity_user.password"):
        export_plan(alpha.schema_name)
