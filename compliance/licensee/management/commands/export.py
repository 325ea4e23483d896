"""`callrix export tenant <slug> [--out PATH]`: a licensee's whole tenant as a ZIP of JSON
files, written from the shell (the same archive as the admins' export, to a path of yours)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context
from tqdm import tqdm

from compliance.licensee.archive import archive_write
from compliance.licensee.errors import ExportScopeIncomplete
from compliance.licensee.export_scope import export_plan
from compliance.licensee.selectors import licensee_label
from tenants.bridge import licensee_named


class Command(BaseCommand):
    help = (
        "Export data. `export tenant <slug>` writes every table of a licensee's schema (bar "
        "the exclusions listed in its manifest) as a ZIP of JSON files with manifest.json "
        "(row counts, SHA-256 checksums) and README.md. Refuses while any table of the "
        "schema has no export decision."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        tenant = sub.add_parser("tenant", help="Export one licensee's whole tenant.")
        tenant.add_argument("slug", help="the licensee's slug")
        tenant.add_argument(
            "--out",
            help="path of the ZIP to write; must not exist "
            "(default: ./<slug>-export-<UTC time>.zip)",
        )

    def handle(self, *args, **options):
        licensee = licensee_named(options["slug"])
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path(options["out"] or f"{licensee.slug}-export-{stamp}.zip").resolve()
        if out.exists():
            raise CommandError(f"{out} already exists; choose another --out.")
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")

        with tenant_context(licensee):
            try:
                plan = export_plan(licensee.schema_name)
            except ExportScopeIncomplete as error:
                raise CommandError(error.detail) from None
            with tqdm(
                desc=f"Exporting {licensee.slug}",
                unit="row",
                unit_scale=True,
                disable=options["verbosity"] < 1,
            ) as bar:

                def progress(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                summary = archive_write(
                    path=out,
                    licensee=licensee_label(licensee.schema_name),
                    plan=plan,
                    on_progress=progress,
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {out}: {summary.table_count} tables, {summary.row_count} rows, "
                f"{summary.size_bytes} bytes, {len(plan.excluded)} tables excluded "
                "(see manifest.json)."
            )
        )
        self.stdout.write(f"  SHA-256: {summary.sha256}")
