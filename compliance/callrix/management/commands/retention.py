"""`callrix retention run [--dry-run]`: apply the privacy policy's retention periods now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from compliance.callrix import retention


class Command(BaseCommand):
    help = (
        "Apply the retention rules of the privacy policy (§7): terminated licensees' schemas "
        "30 days after termination (their invoices kept), invoices and payment records after "
        "7 years, support correspondence 2 years after the last interaction, technical and "
        "access logs after 90 days, expired exports. Also run daily by the scheduler. "
        "Prints per rule how many records of each kind were deleted (counts only)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Delete what each rule's period has run out for.")
        run.add_argument(
            "--dry-run",
            action="store_true",
            help="only count what would be deleted; change nothing",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        verb = "would delete" if dry_run else "deleted"
        reports = retention.retention_run(dry_run=dry_run)
        failed = 0
        for report in reports:
            counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts.items()))
            kept = ", ".join(f"{n} {kind}" for kind, n in sorted(report.kept.items()) if n)
            line = f"{report.rule} ({report.description}): {verb} {counts or 'nothing'}"
            self.stdout.write(f"{line}; kept {kept}" if kept else line)
            for failure in report.failures:
                self.stderr.write(f"  {report.rule}: {failure}")
            failed += len(report.failures)
        if dry_run:
            self.stdout.write(self.style.SUCCESS("Dry run: nothing was changed."))
        if failed:
            raise CommandError(f"{failed} retention step(s) failed; see above.")
