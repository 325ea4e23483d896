"""Low-level schema work: build, migrate, check and drop tenant schemas."""

from __future__ import annotations

import io
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.utils import get_app_label, quote_schema_name

from kernel.tenant_connection import connection


def _migrate_options(verbosity: int) -> dict:
    parser = DjangoMigrate().create_parser("callrix", "migrate")
    options = vars(parser.parse_args([]))
    options.update(verbosity=verbosity, interactive=False, skip_checks=True)
    return options


def schema_create(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema_name)}")


def schema_drop(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(schema_name)} CASCADE")


def schema_rename(old: str, new: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {quote_schema_name(old)} RENAME TO {quote_schema_name(new)}")


def schema_migrate(schema_name: str, *, verbosity: int = 0) -> None:
    """Apply every tenant-app migration to one schema (the public schema is not touched)."""
    previous = connection.schema_name
    try:
        connection.set_schema(schema_name, include_public=False)
        MigrationRecorder(connection).ensure_schema()
        connection.set_schema(schema_name)
        out = io.StringIO()
        DjangoMigrate(stdout=out, stderr=out).execute(**_migrate_options(verbosity))
    finally:
        connection.set_schema(previous)


@lru_cache(maxsize=1)
def tenant_migration_targets() -> frozenset[tuple[str, str]]:
    """Every (app, migration) a fully migrated tenant schema has applied, read from disk."""
    tenant_labels = {get_app_label(app) for app in settings.TENANT_APPS}
    tenant_labels = {apps.get_app_config(label).label for label in tenant_labels}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(node for node in loader.graph.nodes if node[0] in tenant_labels)


def schema_is_current(schema_name: str) -> bool:
    """True when the schema has applied every tenant migration on disk (one query)."""
    with connection.cursor() as cursor:
        # An index lookup: scanning pg_tables grows with every schema in the database.
        cursor.execute(
            "SELECT to_regclass(%s)", [f"{quote_schema_name(schema_name)}.django_migrations"]
        )
        if cursor.fetchone()[0] is None:
            return False
        cursor.execute(f"SELECT app, name FROM {quote_schema_name(schema_name)}.django_migrations")
        applied = set(cursor.fetchall())
    return tenant_migration_targets() <= applied
