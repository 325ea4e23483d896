"""Citus' rule for schema-based sharding (docs/capacity.md, docs/architecture.md §8): each
licensee's schema must be able to live whole on one node, so no foreign key and no query may
reach from one schema into another — a tenant schema into public included.

Foreign keys are read from PostgreSQL's catalogue. Queries are every statement Django sends
while typical work runs for two licensees (API reads on each host, the ledger check and the
usage count that visit every licensee): none may name a schema other than the one the
connection is in, and none may name two tenant schemas.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from tenants.models import Licensee

pytestmark = pytest.mark.django_db


def test_no_foreign_key_crosses_two_schemas(licensees):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, own.nspname, theirs.nspname
            FROM pg_constraint c
            JOIN pg_class a ON a.oid = c.conrelid
            JOIN pg_namespace own ON own.oid = a.relnamespace
            JOIN pg_class b ON b.oid = c.confrelid
            JOIN pg_namespace theirs ON theirs.oid = b.relnamespace
            WHERE c.contype = 'f' AND own.nspname <> theirs.nspname
            """
        )
        crossing = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM pg_constraint c JOIN pg_class a ON a.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = a.relnamespace WHERE c.contype = 'f' "
            "AND n.nspname = 'alpha'"
        )
        [alpha_keys] = cursor.fetchone()
    assert alpha_keys > 10, "the catalogue query sees the tenant's own foreign keys"
    assert crossing == []


class _Statements:
    """Every statement Django sends, with the schema the connection was in."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, execute, sql, params, many, context):
        self.seen.append((connection.schema_name, str(sql)))
        return execute(sql, params, many, context)


def _named_schemas(sql: str, schema_names: set[str]) -> set[str]:
    """Tenant schemas a statement names as a qualifier (`"alpha".table` or `alpha.table`)."""
    named = set(re.findall(r'"([a-z0-9_]+)"\s*\.', sql)) | set(re.findall(r"\b([a-z0-9_]+)\.", sql))
    return named & schema_names


def test_no_query_reaches_from_one_tenant_schema_into_another(licensees, api):
    schema_names = set(Licensee.objects.values_list("schema_name", flat=True))
    assert {"alpha", "beta"} <= schema_names
    statements = _Statements()
    with connection.execute_wrapper(statements):
        for slug in ("alpha", "beta"):
            assert api(slug).get("/api/v1/health").status_code == 200
            assert api(slug).get("/api/v1/advisors").status_code == 200
            assert api(slug).get("/api/v1/app-config").status_code == 200
        call_command("ledger", "verify", stdout=StringIO())
        call_command("usage", "collect", stdout=StringIO())

    assert len(statements.seen) > 20
    visited = {schema for schema, _ in statements.seen}
    assert {"alpha", "beta"} <= visited, "the work ran inside both licensees"
    for schema, sql in statements.seen:
        named = _named_schemas(sql, schema_names)
        assert len(named) <= 1, (schema, sql)
        assert named <= {schema}, f"in {schema}: {sql}"


def test_the_check_catches_a_query_into_another_tenant(licensees):
    """The statement check above would see a join of two licensees' tables."""
    schema_names = {"alpha", "beta"}
    sql = 'SELECT 1 FROM "alpha".calls_call a JOIN beta.calls_call b ON a.id = b.id'
    assert _named_schemas(sql, schema_names) == {"alpha", "beta"}
