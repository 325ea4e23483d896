"""`callrix ledger verify [--licensee SLUG]`: check every ledger invariant per licensee."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from tenant_apps.wallets.selectors import ledger_verify
from tenants.bridge import licensees_chosen


class Command(BaseCommand):
    help = (
        "Check the ledger of one or all licensees: every transaction sums to zero, every "
        "cached balance equals the sum of its entries, no wallet is negative. Exits 1 on "
        "any breach."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Check the ledger invariants.")
        verify.add_argument("--licensee", help="slug of one licensee (default: all)")

    def handle(self, *args: str, **options: Any) -> None:
        licensees = licensees_chosen(options["licensee"])
        breached = 0
        for licensee in licensees:
            with tenant_context(licensee):
                breaches = ledger_verify()
            if breaches:
                breached += 1
                self.stdout.write(self.style.ERROR(f"{licensee.slug}: {len(breaches)} breach(es)"))
                for breach in breaches:
                    self.stdout.write(f"  - {breach}")
            else:
                self.stdout.write(self.style.SUCCESS(f"{licensee.slug}: ledger clean"))
        if breached:
            raise CommandError(f"Ledger breaches found at {breached} licensee(s).")
