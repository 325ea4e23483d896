"""Stripe's webhooks for Callrix's own account, on the public host: verify with Callrix's
signing secret, store once, acknowledge, and apply in a job (`shared_apps.licensing.dunning`)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kernel.errors import DomainError
from kernel.job_outbox.services import job_send_on_commit
from shared_apps.billing import services as billing_services


@csrf_exempt
@require_POST
def billing_stripe_webhook(request: HttpRequest) -> JsonResponse:
    from shared_apps.licensing.tasks import billing_event_process

    try:
        event, created = billing_services.stripe_event_record(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except DomainError as error:
        return JsonResponse(error.as_json(), status=error.status_code)
    if event.processed_at is None:
        # Also for a redelivery of an event we hold but have not applied (a lost job).
        job_send_on_commit(billing_event_process, event.event_id)
    return JsonResponse({"received": True, "duplicate": not created})
