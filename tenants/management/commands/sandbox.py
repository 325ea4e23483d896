"""`callrix sandbox …`: play the outside world against the offline sandboxes of the demo."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from callrix import crypto, offline
from callrix.demo import DEMO_SLUG
from tenant_apps.payments.models import StripeConnection, TopUp
from tenants import selectors


def _post(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise CommandError(f"the sandbox refused: {error.read().decode()[:300]}") from None
    except urllib.error.URLError as error:
        raise CommandError(
            f"the sandbox is not reachable ({error.reason}); is `callrix demo` running?"
        ) from None


class Command(BaseCommand):
    help = "Drive the offline sandboxes: complete or fail a top-up's card payment."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for action, text in (
            ("pay", "The card payment of a top-up succeeds."),
            ("decline", "The card payment of a top-up is declined."),
        ):
            one = sub.add_parser(action, help=text)
            one.add_argument("topup_id", type=int)
            one.add_argument("--licensee", default=DEMO_SLUG, help=f"slug (default {DEMO_SLUG})")

    def handle(self, *args, **options):
        licensee = selectors.licensee_get_by_slug(slug=options["licensee"])
        if licensee is None:
            raise CommandError(f"No licensee with the slug '{options['licensee']}'.")
        base = settings.STRIPE_API_BASE or offline.recorded_url("stripe")
        if not base:
            raise CommandError("No Stripe sandbox is configured (STRIPE_API_BASE is unset).")
        with tenant_context(licensee):
            topup = TopUp.objects.filter(pk=options["topup_id"]).first()
            connection_row = StripeConnection.objects.first()
        if topup is None or not topup.payment_intent_id:
            raise CommandError(f"{licensee.slug} has no top-up {options['topup_id']}.")
        if connection_row is None or not crypto.decrypt(
            connection_row.secret_key_encrypted
        ).startswith("sk_test_sandbox_"):
            raise CommandError(f"{licensee.slug} is not connected to the Stripe sandbox.")
        verb = "succeed" if options["action"] == "pay" else "fail"
        _post(f"{base}/_sandbox/payment_intents/{topup.payment_intent_id}/{verb}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Top-up {topup.pk} at {licensee.slug}: payment "
                f"{'succeeded' if verb == 'succeed' else 'declined'}; Stripe's signed webhook "
                "is on its way to the licensee's host."
            )
        )
