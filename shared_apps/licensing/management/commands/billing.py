"""`callrix billing report-usage [--month YYYY-MM]`, `callrix billing report-overage
[--date YYYY-MM-DD]` and `callrix billing dunning`."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shared_apps.billing import overage
from shared_apps.licensing import dunning
from shared_apps.usage import metering


def _month(value: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise CommandError(f"Not a month (YYYY-MM): {value}") from None


class Command(BaseCommand):
    help = (
        "Licensee billing by hand: the revenue share report, the overage minutes report "
        "and the dunning run."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        report = sub.add_parser(
            "report-usage",
            help="Report each licensee's revenue share for a month to Stripe (once each).",
        )
        report.add_argument("--month", help="YYYY-MM, a month that has ended (default: last)")
        minutes = sub.add_parser(
            "report-overage",
            help=(
                "Report each licensee's talk minutes past its plan's included ones for a day to "
                "Stripe's meter (once each), and send any report an outage held back."
            ),
        )
        minutes.add_argument("--date", help="YYYY-MM-DD (default: yesterday, UTC)")
        sub.add_parser(
            "dunning", help="Bring licensee statuses in line with their invoices; suspend late."
        )

    def handle(self, *args, **options):
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _report_usage(self, options):
        today = timezone.now().date()
        month = _month(options["month"]) if options["month"] else metering.previous_month(today)
        if month >= today.replace(day=1):
            raise CommandError("Only a month that has ended can be reported.")
        result = metering.revenue_share_report_all(month_start=month)
        for report in result.done:
            item = report.stripe_invoice_item_id or "nothing to bill"
            self.stdout.write(
                f"{report.subscription.slug:<24}{report.amount_minor:>12} {report.currency}  {item}"
            )
        for slug, error in result.failed.items():
            self.stderr.write(f"{slug}: {error}")
        if result.failed:
            raise CommandError(f"{len(result.failed)} licensee(s) were not reported.")
        self.stdout.write(self.style.SUCCESS(f"Revenue share for {month:%Y-%m} reported."))

    def _report_overage(self, options):
        try:
            day = (
                date.fromisoformat(options["date"])
                if options["date"]
                else timezone.now().date() - timedelta(days=1)
            )
        except ValueError:
            raise CommandError(f"Not a date (YYYY-MM-DD): {options['date']}") from None
        run = overage.overage_report_run(day=day)
        for slug, error in run.failed.items():
            self.stderr.write(f"{slug}: {error}")
        self.stdout.write(
            f"{run.recorded} recorded, {run.delivered} delivered, {run.pending} pending "
            "(Stripe did not answer; sent again on the next run)"
        )
        if run.failed or run.pending:
            raise CommandError("Some overage was not reported.")
        self.stdout.write(self.style.SUCCESS(f"Overage for {day} reported."))

    def _dunning(self, options):
        changes = dunning.dunning_run()
        for slug, change in changes.items():
            self.stdout.write(f"{slug}: {change}")
        self.stdout.write(self.style.SUCCESS(f"{len(changes)} licensee(s) changed status."))
