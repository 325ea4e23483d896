"""Stripe's webhooks for this licensee: verify, store once, acknowledge, process in a job."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kernel.errors import DomainError
from kernel.job_outbox.services import job_send_on_commit
from tenant_apps.payments import services
from tenant_apps.payments.models import StripeEvent
from tenant_apps.payments.tasks import stripe_event_process


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """The account endpoint: the licensee's own account's events."""
    return _receive(request, services.stripe_event_record)


@csrf_exempt
@require_POST
def stripe_connect_webhook(request: HttpRequest) -> JsonResponse:
    """The Connect endpoint: events of advisors' connected accounts, signed with its own
    secret and carrying the account in `account`."""
    return _receive(request, services.stripe_connect_event_record)


def _receive(request: HttpRequest, record: Callable[..., tuple[StripeEvent, bool]]) -> JsonResponse:
    try:
        event, created = record(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except DomainError as error:
        return JsonResponse(error.as_json(), status=error.status_code)
    if event.processed_at is None:
        # Also for a redelivery of an event we hold but have not applied (a lost job).
        job_send_on_commit(stripe_event_process, event.event_id)
    return JsonResponse({"received": True, "duplicate": not created})
