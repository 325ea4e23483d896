"""`callrix licensee create|list|suspend|reactivate`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kernel.errors import DomainError
from tenants import addresses, selectors, services


class Command(BaseCommand):
    help = "Create, list, suspend and reactivate licensees."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Provision a licensee: schema, domain, owner.")
        create.add_argument("--slug", required=True, help="lowercase letters, digits, hyphens")
        create.add_argument("--name", required=True, help="display name")
        create.add_argument("--owner-email", required=True)
        create.add_argument(
            "--owner-password", help="without it, a one-time link to set it is printed"
        )
        create.add_argument("--currency", default="EUR", help="ISO-4217 code (default EUR)")
        sub.add_parser("list", help="List licensees with status and host.")
        for action in ("suspend", "reactivate"):
            one = sub.add_parser(action, help=f"{action.capitalize()} a licensee.")
            one.add_argument("slug")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            field = f" ({error.field})" if error.field else ""
            raise CommandError(f"{error.detail}{field}") from None

    def _create(self, options):
        result = services.licensee_provision(
            slug=options["slug"],
            display_name=options["name"],
            owner_email=options["owner_email"],
            owner_password=options["owner_password"],
            currency=options["currency"].upper(),
        )
        licensee = result.licensee
        self.stdout.write(self.style.SUCCESS(f"Created licensee {licensee.slug}"))
        self.stdout.write(f"  URL:   {addresses.licensee_origin(licensee.slug)}/")
        self.stdout.write(f"  Owner: {result.owner_email}")
        if result.set_password_url:
            self.stdout.write(
                f"  Set the owner's password (one-time link): {result.set_password_url}"
            )

    def _list(self, options):
        rows = list(selectors.licensee_list())
        if not rows:
            self.stdout.write("No licensees yet.")
            return
        self.stdout.write(f"{'SLUG':<24}{'STATUS':<12}{'CURRENCY':<10}{'NAME':<30}HOST")
        for licensee in rows:
            host = selectors.licensee_primary_host(licensee=licensee)
            self.stdout.write(
                f"{licensee.slug:<24}{licensee.status:<12}{licensee.currency:<10}"
                f"{licensee.display_name[:29]:<30}{host}"
            )

    def _suspend(self, options):
        licensee = services.licensee_suspend(slug=options["slug"])
        self.stdout.write(self.style.SUCCESS(f"Suspended {licensee.slug}"))

    def _reactivate(self, options):
        licensee = services.licensee_reactivate(slug=options["slug"])
        self.stdout.write(self.style.SUCCESS(f"Reactivated {licensee.slug}"))
