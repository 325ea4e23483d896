"""Tenant migrations for many schemas at once (tenants.migrate_parallel): the graph is loaded
once, every schema behind gets the new migration exactly once, a schema that fails does not
stop the others, and schemas not named are never touched."""

from __future__ import annotations

import pytest
from django.db import migrations

from kernel.tenant_connection import connection
from tenants import migrate_parallel, schema_template, schemas

SCHEMAS = ["mp_one", "mp_two", "mp_three", "mp_bystander"]  # migrated once, in the fixture


@pytest.fixture
def migrated_schemas(committed):
    for name in SCHEMAS:
        schemas.schema_drop(name)
        if not schema_template.schema_create_from_template(name):
            schemas.schema_create(name)
            schemas.schema_migrate(name)
    yield SCHEMAS
    for name in SCHEMAS:
        schemas.schema_drop(name)


def _loader_with_new_migration():
    """The graph on disk plus one new `ALTER TABLE` migration of the calls app."""
    loader = migrate_parallel.tenant_loader()
    [leaf] = [node for node in loader.graph.leaf_nodes() if node[0] == "calls"]
    migration = migrations.Migration("9999_bench_note", "calls")
    migration.dependencies = [leaf]
    migration.operations = [
        migrations.RunSQL(
            "ALTER TABLE calls_call ADD COLUMN bench_note text",
            "ALTER TABLE calls_call DROP COLUMN bench_note",
        )
    ]
    key = ("calls", "9999_bench_note")
    loader.graph.add_node(key, migration)
    loader.graph.add_dependency(migration, key, leaf)
    return loader


def _has_note(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'calls_call' AND column_name = 'bench_note'",
            [schema],
        )
        column = cursor.fetchone() is not None
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".django_migrations WHERE name = %s',
            ["9999_bench_note"],
        )
        [recorded] = cursor.fetchone()
    assert recorded == int(column), (schema, column, recorded)
    return column


def test_a_new_migration_reaches_every_named_schema_once_and_no_other(migrated_schemas):
    on_disk = migrate_parallel.schemas_migrate_parallel(SCHEMAS, workers=2)
    assert sorted(on_disk.current) == sorted(SCHEMAS) and not on_disk.migrated
    loader = _loader_with_new_migration()
    named = ["mp_one", "mp_two", "mp_three"]
    # mp_three already has the column (a half-done earlier attempt): it fails alone.
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "mp_three".calls_call ADD COLUMN bench_note text')

    run = migrate_parallel.schemas_migrate_parallel(named, workers=2, loader=loader)

    assert sorted(run.migrated) == ["mp_one", "mp_two"]
    assert list(run.failed) == ["mp_three"] and "bench_note" in run.failed["mp_three"]
    assert _has_note("mp_one") and _has_note("mp_two")
    assert not _has_note("mp_bystander")  # not named: untouched
    again = migrate_parallel.schemas_migrate_parallel(["mp_one", "mp_two"], loader=loader)
    assert sorted(again.current) == ["mp_one", "mp_two"] and not again.migrated
