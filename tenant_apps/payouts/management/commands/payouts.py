"""`callrix payouts run [--licensee SLUG]`: run the advisor payout job by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from tenant_apps.payouts.services import payouts_run
from tenants.bridge import licensees_chosen


class Command(BaseCommand):
    help = (
        "Pay advisors their cleared earnings through Stripe Connect transfers, for one or all "
        "licensees, now (whatever the payout schedule says). Each advisor is still paid at "
        "most once per period of the schedule; pending payouts are finished and failed ones "
        "of this period tried again."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Run the payout job now.")
        run.add_argument("--licensee", help="slug of one licensee (default: all)")

    def handle(self, *args, **options):
        for licensee in licensees_chosen(options["licensee"], include_terminated=False):
            with tenant_context(licensee):
                report = payouts_run()
            if report.skipped:
                self.stdout.write(f"{licensee.slug}: skipped ({report.skipped})")
                continue
            line = (
                f"{licensee.slug}: {report.paid} paid, {report.failed} failed, "
                f"{report.pending} pending"
            )
            if report.failure_reasons:
                why = "; ".join(
                    f"{count} × {reason}" for reason, count in report.failure_reasons.most_common()
                )
                line += f" (failed: {why})"
            style = self.style.WARNING if report.failed or report.pending else self.style.SUCCESS
            self.stdout.write(style(line))
