"""Bridge: LiveKit's webhooks arrive on the public host (one LiveKit project serves every
licensee) and are routed to the licensee named by the room, `{schema}-{call id}`."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from kernel.errors import DomainError
from tenant_apps.calls import livekit_gateway
from tenant_apps.calls import services as call_services
from tenants.bridge import LicenseeView, licensee_get_by_schema


def licensee_for_room(room_name: str) -> LicenseeView | None:
    schema, _, call_id = room_name.rpartition("-")
    if not schema or not call_id.isdigit():
        return None
    return licensee_get_by_schema(schema_name=schema)


@csrf_exempt
@require_POST
def livekit_webhook(request: HttpRequest) -> JsonResponse:
    try:
        event = livekit_gateway.webhook_event_parse(
            body=request.body, authorization=request.headers.get("Authorization", "")
        )
    except DomainError as error:
        return JsonResponse(error.as_json(), status=error.status_code)
    licensee = licensee_for_room(event.get("room_name") or "")
    if licensee is None:
        # Verified, but not a room of ours (or its licensee is gone): nothing to do.
        return JsonResponse({"received": True, "outcome": "ignored: unknown room"})
    with tenant_context(licensee):
        outcome = call_services.livekit_event_apply(event=event)
    return JsonResponse({"received": True, "outcome": outcome})
