"""Stripe's webhooks for this licensee: verify, store once, acknowledge, process in a job."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kernel.errors import DomainError
from tenant_apps.payments import services
from tenant_apps.payments.tasks import stripe_event_process


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        event, created = services.stripe_event_record(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except DomainError as error:
        return JsonResponse(error.as_json(), status=error.status_code)
    if event.processed_at is None:
        # Also for a redelivery of an event we hold but have not applied (a lost job).
        transaction.on_commit(lambda: stripe_event_process.send(event.event_id))
    return JsonResponse({"received": True, "duplicate": not created})
