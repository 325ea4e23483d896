"""`callrix migrate`: the public schema, then every licensee and spare schema that is behind.

Schemas already up to date are skipped after one query each, so a deploy with hundreds of
licensees and no new tenant migration is quick; the ones behind are migrated a few at a time
with the migration graph loaded once (`tenants.migrate_parallel`). The warm pool is topped up
at the end.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors.base import run_migrations

from kernel.tenant_connection import connection
from tenants import migrate_parallel, provisioning, schemas, selectors


class Command(MigrateSchemasCommand):
    help = (
        "Migrate the public schema and every licensee and spare schema (progress bar; "
        "up-to-date schemas are skipped), then refill the spare-schema pool."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-spares", action="store_true", help="Do not refill the spare-schema pool."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=migrate_parallel.DEFAULT_WORKERS,
            help="Tenant schemas migrated at once (the migration graph is loaded once).",
        )

    def handle(self, *args, **options):
        selective = (
            options.get("schema_name")
            or options.get("app_label")
            or options.get("plan")
            or options.get("check_unapplied")
            or options.get("fake")
            or options.get("shared")
            or options.get("tenant")
        )
        if selective:
            return super().handle(*args, **options)

        verbosity = int(options.get("verbosity", 1))
        run_migrations(args, options, "standard", "public", allow_atomic=True)
        connection.set_schema_to_public()

        names = selectors.tenant_schema_names()
        behind = [name for name in names if not schemas.schema_is_current(name)]
        if verbosity >= 1:
            self.stdout.write(
                f"Tenant schemas: {len(names)}, up to date: {len(names) - len(behind)}, "
                f"to migrate: {len(behind)}"
            )
        if behind:
            run = migrate_parallel.schemas_migrate_parallel(behind, workers=options["workers"])
            if verbosity >= 1:
                self.stdout.write(f"Tenant schemas migrated: {len(run.migrated)}")
            if run.failed:
                for name, error in sorted(run.failed.items()):
                    self.stderr.write(f"{name}: {error}")
                raise CommandError(f"{len(run.failed)} tenant schemas failed to migrate.")

        if not options.get("no_spares"):
            built = provisioning.spare_pool_refill()
            if verbosity >= 1 and built:
                self.stdout.write(f"Spare schemas built: {built}")
        connection.set_schema_to_public()
