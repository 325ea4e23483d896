"""Spares built from the process's template (tenants/schema_template.py) are the schema a
migration makes, carry nothing but the migrations' own rows, and leave the connection as
they found it; without a usable pg_dump, spares are migrated as before."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from tenants import provisioning, schema_template, schemas
from tenants.models import SpareSchema
from tests.factories import licensee_make


def _same_rule(value: object, schema: str) -> str:
    """A definition without its schema's name, casts and parentheses: PostgreSQL prints a
    rule it re-parsed from the dump with its casts elsewhere (`ARRAY[…]::text[]` for
    `ARRAY[(…)::text]`), the same rule; the constraints are also tried below."""
    text = str(value).replace(schema, "<schema>")
    text = re.sub(r"::[a-z_]+( varying| precision| with time zone)?(\[\])?", "", text)
    return text.replace("(", "").replace(")", "")


def _shape(schema: str) -> dict[str, list]:
    """Everything a migration decides about a schema, its own name taken out."""
    queries = {
        "columns": """SELECT table_name, column_name, data_type, is_nullable,
                             coalesce(column_default, ''), is_identity
                      FROM information_schema.columns WHERE table_schema = %(s)s""",
        "constraints": """SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid)
                          FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                          JOIN pg_namespace n ON n.oid = t.relnamespace
                          WHERE n.nspname = %(s)s""",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
        "functions": """SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s""",
        "triggers": """SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
                       JOIN pg_class c ON c.oid = t.tgrelid
                       JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = %(s)s AND NOT t.tgisinternal""",
    }
    shape: dict[str, list] = {}
    with connection.cursor() as cursor:
        for kind, sql in queries.items():
            cursor.execute(sql, {"s": schema})
            rows = [tuple(_same_rule(value, schema) for value in row) for row in cursor.fetchall()]
            shape[kind] = sorted(rows)
        for table, columns in (
            ("django_migrations", "app, name"),
            ("django_content_type", "*"),
            ("auth_permission", "*"),
        ):
            cursor.execute(f'SELECT {columns} FROM "{schema}".{table}')
            shape[table] = sorted(cursor.fetchall())
    return shape


@pytest.mark.django_db
def test_a_template_spare_is_exactly_the_migrated_schema():
    assert schema_template.replay_sql() is not None, "the session's set-up makes the template"
    with schema_context("public"):
        schemas.schema_create("tpl_test_migrated")
        schemas.schema_migrate("tpl_test_migrated")
        assert schema_template.schema_create_from_template("tpl_test_replayed")
    migrated, replayed = _shape("tpl_test_migrated"), _shape("tpl_test_replayed")
    assert len(migrated["columns"]) > 200 and len(migrated["functions"]) >= 1
    for kind in migrated:
        assert replayed[kind] == migrated[kind], kind
    assert schemas.schema_is_current("tpl_test_replayed")
    for schema in ("tpl_test_migrated", "tpl_test_replayed"):  # the CHECKs refuse alike
        with connection.cursor() as cursor:
            insert = (
                f'INSERT INTO "{schema}".wallets_ledgeraccount '
                "(kind, owner_id, currency, balance_minor, created_at) "
                "VALUES ('wallet', 7, 'EUR', %s, now())"
            )
            cursor.execute(insert, [0])
            with pytest.raises(IntegrityError, match="ledger_account_never_negative"):
                with transaction.atomic():
                    cursor.execute(insert.replace("7", "8"), [-1])


@pytest.mark.django_db
def test_the_template_is_made_from_a_private_schema_and_dropped():
    sql, name = schema_template.replay_sql() or ("", "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s", ["tpl\\_%"])
        assert cursor.fetchone() == (0,)
    assert name.startswith("tpl_") and f"CREATE SCHEMA {name};" in sql
    # Rows only where migrations put them: no user, wallet, call or ledger row.
    inserted = {
        line.split()[2].split(".")[1] for line in sql.splitlines() if line.startswith("INSERT INTO")
    }
    assert "django_migrations" in inserted
    assert not inserted & {"identity_user", "wallets_ledgerentry", "calls_call", "payments_topup"}


@pytest.mark.django_db
def test_replaying_leaves_the_connections_settings_alone():
    names = ("statement_timeout", "lock_timeout", "check_function_bodies", "row_security")
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '17s'")
        before = {}
        for name in names + ("search_path",):
            cursor.execute(f"SHOW {name}")
            before[name] = cursor.fetchone()[0]
        with schema_context("public"):
            assert schema_template.schema_create_from_template("tpl_test_settings")
        for name, value in before.items():
            cursor.execute(f"SHOW {name}")
            assert cursor.fetchone() == (value,), name
        cursor.execute("SET statement_timeout = DEFAULT")


@pytest.mark.django_db
def test_a_licensee_on_a_template_spare_works_and_sees_only_its_own_rows():
    with schema_context("public"):
        pool = SpareSchema.objects.count()
        provisioning.spare_build()
        assert SpareSchema.objects.count() == pool + 1
    gamma = licensee_make(slug="gamma-tpl", name="Gamma")
    delta = licensee_make(slug="delta-tpl", name="Delta")
    for licensee in (gamma, delta):
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT email FROM "{licensee.schema_name}".identity_user')
            assert cursor.fetchall() == [(f"owner@{licensee.slug}.test",)]


def test_without_pg_dump_spares_are_migrated(committed, monkeypatch):
    monkeypatch.setattr(schema_template, "_template", {})
    monkeypatch.setattr(schema_template, "_unavailable", [])
    monkeypatch.setattr(schema_template, "_failed_at", [])
    monkeypatch.setattr(schema_template, "DEBIAN_CLIENTS", Path("/nonexistent"))
    monkeypatch.setattr(schema_template, "_pgserver_bin", lambda: None)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert not schema_template.template_prepare()
    assert schema_template._unavailable == ["no pg_dump of the server's major version"]
    # Remembered: not tried again (a migration more) for every spare, until RETRY_AFTER_S.
    monkeypatch.setattr(schema_template, "_pg_dump_path", lambda: pytest.fail("tried again"))
    assert not schema_template.template_prepare()
    with schema_context("public"):
        name = provisioning.spare_build()
        try:
            assert schemas.schema_is_current(name)
            assert schema_template.replay_sql() is None
        finally:
            SpareSchema.objects.filter(schema_name=name).delete()
            schemas.schema_drop(name)
