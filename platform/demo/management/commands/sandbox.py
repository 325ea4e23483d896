"""`callrix sandbox …`: play the outside world against the offline sandboxes of the demo."""

from __future__ import annotations

import time
import urllib.error

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from demo import mailbox, offline
from demo.aurora import DEMO_SLUG
from kernel import crypto
from kernel.money import format_minor
from tenant_apps.calls.models import Call
from tenant_apps.calls.services import identity_of
from tenant_apps.payments.models import StripeConnection, TopUp
from tenants.licensee_choice import licensee_named


def _post(url: str, body: dict | None = None) -> dict:
    try:
        return offline.post_json(url, body)
    except urllib.error.HTTPError as error:
        raise CommandError(f"the sandbox refused: {error.read().decode()[:300]}") from None
    except urllib.error.URLError as error:
        raise CommandError(
            f"the sandbox is not reachable ({error.reason}); is `callrix demo` running?"
        ) from None


class Command(BaseCommand):
    help = (
        "Drive the offline sandboxes: complete or fail a top-up's card payment; play both "
        "parties of an accepted call talking for some seconds."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for action, text in (
            ("pay", "The card payment of a top-up succeeds."),
            ("decline", "The card payment of a top-up is declined."),
        ):
            one = sub.add_parser(action, help=text)
            one.add_argument("topup_id", type=int)
            one.add_argument("--licensee", default=DEMO_SLUG, help=f"slug (default {DEMO_SLUG})")
        call = sub.add_parser(
            "call", help="Both parties join the call's room, talk, and leave (signed webhooks)."
        )
        call.add_argument("call_id", type=int)
        call.add_argument("--talk", type=int, default=95, help="seconds of talk (default 95)")
        call.add_argument("--licensee", default=DEMO_SLUG, help=f"slug (default {DEMO_SLUG})")
        mail = sub.add_parser("mail", help="List the e-mails the demo wrote to .callrix/mail/.")
        mail.add_argument("--last", type=int, default=20, help="how many (default 20)")

    def handle(self, *args, **options):
        if options["action"] == "mail":
            self._mail(options["last"])
            return
        licensee = licensee_named(options["licensee"])
        if options["action"] == "call":
            self._call(licensee, options["call_id"], options["talk"])
        else:
            self._payment(licensee, options["topup_id"], succeed=options["action"] == "pay")

    def _mail(self, last: int) -> None:
        listed = mailbox.mail_list(limit=max(last, 1))
        if not listed:
            self.stdout.write(f"No e-mails yet in {mailbox.mail_folder()}.")
            return
        for stored in listed:
            self.stdout.write(f"{stored.path.name}\n  From: {stored.sender}\n  To: {stored.to}")
            self.stdout.write(f"  Subject: {stored.subject}")

    def _payment(self, licensee, topup_id: int, *, succeed: bool) -> None:
        base = settings.STRIPE_API_BASE or offline.recorded_url("stripe")
        if not base:
            raise CommandError("No Stripe sandbox is configured (STRIPE_API_BASE is unset).")
        with tenant_context(licensee):
            topup = TopUp.objects.filter(pk=topup_id).first()
            connection_row = StripeConnection.objects.first()
        if topup is None or not topup.payment_intent_id:
            raise CommandError(f"{licensee.slug} has no top-up {topup_id}.")
        if connection_row is None or not crypto.decrypt(
            connection_row.secret_key_encrypted
        ).startswith("sk_test_sandbox_"):
            raise CommandError(f"{licensee.slug} is not connected to the Stripe sandbox.")
        verb = "succeed" if succeed else "fail"
        _post(f"{base}/_sandbox/payment_intents/{topup.payment_intent_id}/{verb}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Top-up {topup.pk} at {licensee.slug}: payment "
                f"{'succeeded' if succeed else 'declined'}; Stripe's signed webhook "
                "is on its way to the licensee's host."
            )
        )

    def _call(self, licensee, call_id: int, talk_seconds: int) -> None:
        """Both join now and their leaving is dated `talk_seconds` later, so a talk of that
        length plays at once; LiveKit's signed webhooks carry those times to the licensee,
        which bills from event times (talk never counts before the advisor accepted)."""
        if talk_seconds <= 0:
            raise CommandError("--talk must be a positive number of seconds.")
        base = offline.recorded_url("livekit")
        if not base:
            raise CommandError("No LiveKit sandbox is running; start `callrix demo` first.")
        with tenant_context(licensee):
            call = Call.objects.select_related("advisor").filter(pk=call_id).first()
            if call is None:
                raise CommandError(f"{licensee.slug} has no call {call_id}.")
            if call.status == Call.Status.RINGING:
                raise CommandError(
                    f"Call {call_id} is ringing; the advisor must accept it first "
                    f"(POST /api/v1/calls/{call_id}/accept)."
                )
            if call.status != Call.Status.CONNECTED:
                # Over already: accepting it would not help; only a new call can be played.
                raise CommandError(
                    f"Call {call_id} is {call.status} and cannot be played any more; "
                    "request a new call (POST /api/v1/calls)."
                )
            parties = [identity_of(call.caller_id), identity_of(call.advisor.user_id)]
        room = f"{base}/_sandbox/rooms/{call.room_name}"
        now = time.time()
        for identity in parties:
            _post(f"{room}/join", {"identity": identity, "at": now})
        for identity in parties:
            _post(f"{room}/leave", {"identity": identity, "at": now + talk_seconds})
        _post(f"{room}/finish")
        self.stdout.write(
            f"Played {talk_seconds} s of talk in {call.room_name}; waiting for "
            "Callrix to settle it …"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with tenant_context(licensee):
                call = Call.objects.get(pk=call_id)
            if call.settled_at:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Call {call.pk} {call.status}: {call.talk_seconds} s talked, charged "
                        f"{format_minor(call.cost_minor, call.currency)} (advisor "
                        f"{format_minor(call.advisor_minor, call.currency)}, licensee "
                        f"{format_minor(call.licensee_minor, call.currency)}, Callrix "
                        f"{format_minor(call.callrix_minor, call.currency)})."
                    )
                )
                return
            time.sleep(0.5)
        raise CommandError("The call was not settled within 30 s; is `callrix demo` running?")
