"""`callrix policy publish|list`: versions of Callrix's own privacy policy."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from kernel.errors import DomainError
from shared_apps.privacy import selectors, services


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = (
        "Versions of Callrix's privacy policy. `policy publish` publishes one; a --material "
        "change must take effect at least 30 days later and e-mails every licensee account "
        "holder. `policy list` shows the published versions."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        publish = sub.add_parser("publish", help="Publish a version of the privacy policy.")
        publish.add_argument("--version", dest="policy_version", required=True)
        publish.add_argument("--effective-on", required=True, help="YYYY-MM-DD (UTC)")
        publish.add_argument("--summary", required=True, help="what changed, for the notice")
        publish.add_argument(
            "--material",
            action="store_true",
            help="changes how personal data is processed: notify account holders",
        )
        sub.add_parser("list", help="List the published versions.")

    def handle(self, *args, **options):
        if options["action"] == "list":
            today = timezone.now().date()
            current = selectors.policy_current(today=today)
            for version in selectors.policy_published().order_by("effective_on"):
                mark = " (current)" if current and version.pk == current.pk else ""
                material = "material" if version.material else "minor"
                self.stdout.write(
                    f"{version.version:<12}effective {version.effective_on}  {material}{mark}"
                )
            return
        try:
            # The notice job is queued when this commits.
            with transaction.atomic():
                version = services.policy_publish(
                    version=options["policy_version"],
                    effective_on=_day(options["effective_on"]),
                    summary=options["summary"],
                    material=options["material"],
                )
        except DomainError as error:
            raise CommandError(f"{error.field or 'error'}: {error.detail}") from None
        notice = " Account holders will be e-mailed." if version.material else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Published version {version.version}, effective {version.effective_on}.{notice}"
            )
        )
