from datetime import datetime

import dramatiq
from django_tenants.utils import tenant_context

from tenant_apps.calls import livekit_gateway, services
from tenants import bridge


@dramatiq.actor(queue_name="calls", max_retries=3)
def call_ring_timeout(call_id: int) -> None:
    services.call_ring_timeout(call_id=call_id)


@dramatiq.actor(queue_name="calls", max_retries=3)
def queue_offer_expire(entry_id: int) -> None:
    """A queue offer's window is over: the next in line, or the advisor online again."""
    services.queue_offer_expire(entry_id=entry_id)


# Lower runs first among the jobs a worker holds (dramatiq's default is 0): a hold's refill
# is due well before it is needed (`HOLD_REFILL_MARGIN_SECONDS` and the warning ahead), so
# it yields to the jobs that must land on their second.
REFILL_PRIORITY = 10


@dramatiq.actor(queue_name="calls", max_retries=0, priority=REFILL_PRIORITY)
def call_bill(call_id: int, due: str | None = None) -> None:
    """A call's billing job at its due time (a hold refill or the low-credit warning); it
    queues the next itself. A superseded one does nothing, and the reconciler's pass is the
    backstop for a lost one."""
    services.call_bill(call_id=call_id, due=datetime.fromisoformat(due) if due else None)


@dramatiq.actor(queue_name="calls_end", max_retries=0, priority=0)
def call_bill_end(call_id: int, due: str | None = None) -> None:
    """The billing job that ends a call (credit, grace period or no-show run out) and settles
    it: on a queue of its own, so its delayed messages are not fetched behind a backlog of
    refills, and first among the jobs a worker holds."""
    services.call_bill(call_id=call_id, due=datetime.fromisoformat(due) if due else None)


@dramatiq.actor(queue_name="calls", max_retries=5)
def room_close(room_name: str) -> None:
    """End the LiveKit room for everyone in it (idempotent: a gone room is fine)."""
    livekit_gateway.room_delete(name=room_name)


@dramatiq.actor(queue_name="calls", max_retries=0, time_limit=120_000)
def calls_reconcile() -> None:
    services.calls_reconcile()


@dramatiq.actor(queue_name="calls", max_retries=2)
def call_in_call_event(room_name: str, identity: str, payload: dict[str, str | int]) -> None:
    """An in-call event (e.g. credit running low) for one party's app, over LiveKit data."""
    livekit_gateway.room_send_data(
        name=room_name, payload=payload, topic=livekit_gateway.EVENTS_TOPIC, identities=[identity]
    )


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def calls_reconcile_all() -> None:
    """Queue each serving licensee's call reconciler, in its own schema."""
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            calls_reconcile.send()


@dramatiq.actor(queue_name="maintenance", max_retries=1)
def chat_messages_expire() -> None:
    services.chat_messages_expire()


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def chat_messages_expire_all() -> None:
    """The chat retention rule, in each serving licensee's schema."""
    for licensee in bridge.licensee_list_serving():
        with tenant_context(licensee):
            chat_messages_expire.send()
