"""The load test's people on the demo licensee: callers with credit, each paired with an
advisor of their own, so every simulated caller can always reach a free advisor."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import services as call_services
from tenant_apps.calls.models import Call
from tenant_apps.payments import services as payment_services

LOAD_DOMAIN = "load.aurora.test"  # not "@aurora.test": the demo's own credit skips them
LOAD_PASSWORD = "aurora-load-2026"
# Enough for hundreds of short calls at 2.00 a minute; granted once per caller (by key), the
# mix's own top-ups add more.
LOAD_CREDIT_MINOR = 50_000
LOAD_RATE_MINOR_PER_MINUTE = 200


@dataclass(frozen=True)
class LoadPair:
    caller_email: str
    advisor_email: str
    advisor_id: int


def load_people_ensure(*, licensee, pairs: int, owner_email: str) -> list[dict[str, object]]:
    """Create (once) `pairs` callers and advisors, credit the callers, put the advisors online
    and end what an interrupted earlier run left connected. Returns the pairs as plain data
    for the Locust process."""
    User = get_user_model()
    out = []
    with tenant_context(licensee):
        owner = User.objects.get(email=owner_email)
        for number in range(1, pairs + 1):
            caller_email = f"caller-{number}@{LOAD_DOMAIN}"
            advisor_email = f"advisor-{number}@{LOAD_DOMAIN}"
            caller = User.objects.filter(email=caller_email).first()
            if caller is None:
                caller = User.objects.create_user(
                    caller_email,
                    LOAD_PASSWORD,
                    role="end_user",
                    display_name=f"Load Caller {number}",
                )
            payment_services.credit_grant(
                user_id=caller.pk,
                amount_minor=LOAD_CREDIT_MINOR,
                reason="Load test credit",
                admin=owner,
                idempotency_key=f"loadtest-credit-{caller.pk}",
            )
            advisor = Advisor.objects.filter(user__email=advisor_email).first()
            if advisor is None:
                user = User.objects.create_user(
                    advisor_email,
                    LOAD_PASSWORD,
                    role="advisor",
                    display_name=f"Load Advisor {number}",
                )
                advisor = Advisor.objects.create(
                    user=user,
                    display_name=f"Load Advisor {number}",
                    headline="Answers the load test's calls",
                    rate_minor_per_minute=LOAD_RATE_MINOR_PER_MINUTE,
                    kinds=["voice"],
                    categories=["tarot"],
                    languages=["en"],
                    status=Advisor.Status.ONLINE,
                )
            _leftovers_end(advisor)
            Advisor.objects.filter(pk=advisor.pk).update(status=Advisor.Status.ONLINE)
            out.append(asdict(LoadPair(caller_email, advisor_email, advisor.pk)))
    return out


def _leftovers_end(advisor: Advisor) -> None:
    """A run stopped half-way leaves calls ringing or connected: their callers hang up, as
    the call screen would, so this run starts with free advisors."""
    open_calls = Call.objects.filter(
        advisor=advisor, status__in=[Call.Status.RINGING, Call.Status.CONNECTED]
    ).select_related("caller")
    for call in open_calls:
        call_services.call_hangup(user=call.caller, call_id=call.pk)
