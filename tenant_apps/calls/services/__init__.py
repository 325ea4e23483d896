"""The call services (docs/architecture.md §5), one module per concern. A module imports
only the ones listed before it:

- `rooms`: a call's LiveKit room name, its parties' identities, presence replayed from events;
- `billing`: the hold, its extension ahead of the talk, the settlement, spending caps;
- `reviews`: a caller's rating of a call;
- `chat`: a chat session's messages, read state, typing, and their retention;
- `admission`: whether a caller may have a session with an advisor (kind, rate, credit), for
  every way one starts (a request, the line, a booking);
- `queue`: the line for a busy advisor, and the offer to the first in it;
- `lifecycle`: request, ring, accept, decline, join, hang up, the due-time billing job, the end;
- `provider_events`: LiveKit's webhooks;
- `reconciler`: our state checked against LiveKit's room service.

The names below are what the API, the jobs and the rest of Callrix call.
"""

from tenant_apps.calls.services.admission import SessionAdmission, session_admit
from tenant_apps.calls.services.billing import (
    HOLD_LOOKAHEAD_SECONDS,
    call_history_record,
    spending_cap_set,
)
from tenant_apps.calls.services.chat import (
    chat_message_send,
    chat_messages_expire,
    chat_messages_read,
    chat_peer_typing,
    chat_typing_mark,
)
from tenant_apps.calls.services.lifecycle import (
    BILLING_TICK_SECONDS,
    billing_due,
    call_accept,
    call_bill,
    call_decline,
    call_hangup,
    call_join,
    call_request,
    call_ring_timeout,
    call_sandbox_presence,
)
from tenant_apps.calls.services.provider_events import livekit_event_apply
from tenant_apps.calls.services.queue import (
    QUEUE_OFFER_SECONDS,
    queue_join,
    queue_leave,
    queue_offer_expire,
)
from tenant_apps.calls.services.reconciler import calls_reconcile
from tenant_apps.calls.services.reviews import REVIEW_MIN_TALK_SECONDS, review_create
from tenant_apps.calls.services.rooms import identity_of

__all__ = [
    "BILLING_TICK_SECONDS",
    "HOLD_LOOKAHEAD_SECONDS",
    "QUEUE_OFFER_SECONDS",
    "REVIEW_MIN_TALK_SECONDS",
    "SessionAdmission",
    "billing_due",
    "call_accept",
    "call_bill",
    "call_decline",
    "call_hangup",
    "call_history_record",
    "call_join",
    "call_request",
    "call_ring_timeout",
    "call_sandbox_presence",
    "calls_reconcile",
    "chat_message_send",
    "chat_messages_expire",
    "chat_messages_read",
    "chat_peer_typing",
    "chat_typing_mark",
    "identity_of",
    "livekit_event_apply",
    "queue_join",
    "queue_leave",
    "queue_offer_expire",
    "review_create",
    "session_admit",
    "spending_cap_set",
]
