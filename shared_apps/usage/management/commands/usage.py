"""`callrix usage collect [--date YYYY-MM-DD]`."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shared_apps.usage import metering


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = "Count each licensee's advisors, end users, calls and talk minutes for a day."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        collect = sub.add_parser(
            "collect", help="Store a day's counts for every licensee (again: replaced)."
        )
        collect.add_argument("--date", help="YYYY-MM-DD, UTC (default: yesterday)")

    def handle(self, *args, **options):
        day = (
            _day(options["date"]) if options["date"] else timezone.now().date() - timedelta(days=1)
        )
        if day > timezone.now().date():
            raise CommandError("That day has not begun yet.")
        result = metering.usage_collect(day=day)
        self.stdout.write(f"{'LICENSEE':<24}{'ADVISORS':>9}{'USERS':>9}{'CALLS':>9}{'MINUTES':>9}")
        for usage in result.done:
            self.stdout.write(
                f"{usage.licensee.slug:<24}{usage.advisors:>9}{usage.end_users:>9}"
                f"{usage.calls:>9}{usage.talk_minutes:>9}"
            )
        for slug, error in result.failed.items():
            self.stderr.write(f"{slug}: {error}")
        if result.failed:
            raise CommandError(f"Usage of {len(result.failed)} licensee(s) was not collected.")
        self.stdout.write(self.style.SUCCESS(f"Usage for {day} stored for {len(result.done)}."))
