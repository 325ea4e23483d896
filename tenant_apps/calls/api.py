"""Calls on a licensee's hosts: end users call advisors; both join, talk and hang up."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Router, Schema

# ninja.Query is, to mypy, a generic alias; the function behind it (the same call) is typed.
from ninja.params.functions import Path, Query
from ninja.responses import Status
from pydantic import Field

from identity.auth import ADVISOR_ROLES, END_USER_ROLES, AuthenticatedRequest, TokenAuth
from kernel.inputs import Id, Line, Offset, Text
from kernel.throttling import LicenseeRateThrottle
from tenant_apps.calls import selectors, services
from tenant_apps.calls.errors import CallNotFound, NotInQueue
from tenant_apps.calls.models import Call, ChatMessage

router = Router(tags=["calls"])
PARTIES = TokenAuth(roles=END_USER_ROLES | ADVISOR_ROLES)


class CallIn(Schema):
    advisor_id: Id
    kind: Literal["voice", "video", "chat"] = "voice"
    # Free seconds on a first session with this advisor (a promotion code).
    promo_code: Line | None = Field(default=None, max_length=40)


class AdvisorRef(Schema):
    id: int
    display_name: str


class CallOut(Schema):
    id: int
    status: str
    kind: str
    advisor: AdvisorRef
    caller_name: str
    talk_seconds: int
    cost: int
    currency: str
    rate: int
    free_seconds: int
    seconds_left: int | None
    low_funds: bool
    rating: int | None
    created_at: datetime
    ended_at: datetime | None
    end_reason: str


class CallPageOut(Schema):
    count: int
    results: list[CallOut]


class JoinOut(Schema):
    livekit_url: str
    token: str
    room: str


class CallReceiptOut(Schema):
    call_id: int
    kind: str
    advisor: AdvisorRef
    talk_seconds: int
    free_seconds: int
    rate: int
    billing_mode: str
    amount: int  # what the caller paid
    promotion: int  # what a promotion code paid for its free seconds
    currency: str
    ended_at: datetime | None
    split: dict[str, int] | None


class ReviewIn(Schema):
    rating: int = Field(ge=1, le=5)
    comment: Text = Field(default="", max_length=2_000)


class ReviewOut(Schema):
    call_id: int
    rating: int
    comment: str


class CapIn(Schema):
    monthly_limit: int | None = Field(default=None, ge=0, le=100_000_000)


class CapOut(Schema):
    monthly_limit: int | None


def _out(call: Call) -> dict[str, object]:
    meter = selectors.live_meter(call)
    review = getattr(call, "review", None)  # the reverse one-to-one raises AttributeError
    return {
        "id": call.pk,
        "status": call.status,
        "kind": call.kind,
        "advisor": {"id": call.advisor_id, "display_name": call.advisor.display_name},
        "caller_name": call.caller.display_name,
        "talk_seconds": meter["talk_seconds"],
        "cost": meter["cost"],
        "currency": call.currency,
        "rate": call.rate_minor_per_minute,
        "free_seconds": call.free_seconds,
        "seconds_left": meter["seconds_left"],
        "low_funds": call.low_funds_warned_at is not None,
        "rating": review.rating if review else None,
        "created_at": call.created_at,
        "ended_at": call.ended_at,
        "end_reason": call.end_reason,
    }


def _fresh(request: AuthenticatedRequest, call_id: Id) -> Call:
    call = selectors.call_for_party(user=request.auth, call_id=call_id)
    if call is None:
        raise CallNotFound("There is no such call.", field="call_id")
    return call


@router.post(
    "/calls",
    response={201: CallOut},
    auth=TokenAuth(roles=END_USER_ROLES),
    throttle=[LicenseeRateThrottle("call")],
)
def call_request(request: AuthenticatedRequest, payload: CallIn) -> Status[dict[str, object]]:
    call = services.call_request(
        caller=request.auth,
        advisor_id=payload.advisor_id,
        kind=payload.kind,
        promo_code=payload.promo_code or None,
    )
    return Status(201, _out(_fresh(request, call.pk)))


@router.get("/calls", response=CallPageOut, auth=PARTIES)
def call_history(
    request: AuthenticatedRequest,
    limit: int = Query(default=20, ge=1, le=100),
    offset: Offset = 0,
) -> dict[str, object]:
    calls = selectors.calls_for_party(user=request.auth)
    return {"count": calls.count(), "results": [_out(c) for c in calls[offset : offset + limit]]}


@router.get("/calls/{call_id}", response=CallOut, auth=PARTIES)
def call_get(request: AuthenticatedRequest, call_id: Id) -> dict[str, object]:
    return _out(_fresh(request, call_id))


@router.post("/calls/{call_id}/accept", response=CallOut, auth=TokenAuth(roles=ADVISOR_ROLES))
def call_accept(request: AuthenticatedRequest, call_id: Id) -> dict[str, object]:
    services.call_accept(user=request.auth, call_id=call_id)
    return _out(_fresh(request, call_id))


@router.post("/calls/{call_id}/decline", response=CallOut, auth=TokenAuth(roles=ADVISOR_ROLES))
def call_decline(request: AuthenticatedRequest, call_id: Id) -> dict[str, object]:
    services.call_decline(user=request.auth, call_id=call_id)
    return _out(_fresh(request, call_id))


@router.post("/calls/{call_id}/join", response=JoinOut, auth=PARTIES)
def call_join(request: AuthenticatedRequest, call_id: Id) -> dict[str, object]:
    url, token = services.call_join(user=request.auth, call_id=call_id)
    return {"livekit_url": url, "token": token, "room": _fresh(request, call_id).room_name}


# Ids are bigint columns: a larger number is a 422, never a database error.
MAX_ID = 9_223_372_036_854_775_807


class ChatMessageIn(Schema):
    text: str = Field(min_length=1, max_length=2_000, pattern=r"^[^\x00]*$")


class ChatMessageOut(Schema):
    id: int
    call_id: int
    mine: bool
    sender: Literal["caller", "advisor"]
    text: str
    created_at: datetime
    read_at: datetime | None


class ChatMessagePageOut(Schema):
    results: list[ChatMessageOut]
    peer_typing: bool


class ChatReadIn(Schema):
    up_to: int = Field(ge=0, le=MAX_ID)


def _message_out(message: ChatMessage, call: Call, user_id: int) -> dict[str, object]:
    return {
        "id": message.pk,
        "call_id": message.call_id,
        "mine": message.sender_id == user_id,
        "sender": "caller" if message.sender_id == call.caller_id else "advisor",
        "text": message.text,
        "created_at": message.created_at,
        "read_at": message.read_at,
    }


@router.post("/calls/{call_id}/messages", response={201: ChatMessageOut}, auth=PARTIES)
def chat_message_send(
    request: AuthenticatedRequest, payload: ChatMessageIn, call_id: int = Path(ge=1, le=MAX_ID)
) -> Status[dict[str, object]]:
    message = services.chat_message_send(user=request.auth, call_id=call_id, text=payload.text)
    return Status(201, _message_out(message, message.call, request.auth.pk))


@router.get("/calls/{call_id}/messages", response=ChatMessagePageOut, auth=PARTIES)
def chat_messages(
    request: AuthenticatedRequest,
    call_id: int = Path(ge=1, le=MAX_ID),
    after: int = Query(default=0, ge=0, le=MAX_ID),
) -> dict[str, object]:
    call = _fresh(request, call_id)
    messages = selectors.chat_messages_for_party(call=call, after_id=after)
    return {
        "results": [_message_out(m, call, request.auth.pk) for m in messages],
        "peer_typing": services.chat_peer_typing(call=call, user=request.auth),
    }


@router.post("/calls/{call_id}/messages/read", response={204: None}, auth=PARTIES)
def chat_messages_read(
    request: AuthenticatedRequest, payload: ChatReadIn, call_id: int = Path(ge=1, le=MAX_ID)
) -> Status[None]:
    services.chat_messages_read(user=request.auth, call_id=call_id, up_to_id=payload.up_to)
    return Status(204, None)


@router.post("/calls/{call_id}/typing", response={204: None}, auth=PARTIES)
def chat_typing(
    request: AuthenticatedRequest, call_id: int = Path(ge=1, le=MAX_ID)
) -> Status[None]:
    services.chat_typing_mark(user=request.auth, call_id=call_id)
    return Status(204, None)


class QueueJoinIn(Schema):
    kind: Literal["voice", "video", "chat"] = "voice"


class QueuePlaceOut(Schema):
    advisor_id: int
    status: str
    kind: str
    position: int
    length: int
    estimated_wait_seconds: int
    offer_expires_at: datetime | None


class QueueCallerOut(Schema):
    position: int
    caller_name: str
    kind: str
    status: str
    since: datetime
    offer_expires_at: datetime | None


END_USERS = TokenAuth(roles=END_USER_ROLES)


def _place(request: AuthenticatedRequest, advisor_id: int) -> dict[str, object]:
    place = selectors.queue_place_get(caller=request.auth, advisor_id=advisor_id)
    if place is None:
        raise NotInQueue("You are not waiting for this advisor.", field="advisor_id")
    return {"advisor_id": advisor_id, **place}


@router.post(
    "/advisors/{advisor_id}/queue",
    response={201: QueuePlaceOut},
    auth=END_USERS,
    throttle=[LicenseeRateThrottle("call")],
)
def queue_join(
    request: AuthenticatedRequest,
    payload: QueueJoinIn,
    advisor_id: int = Path(ge=1, le=MAX_ID),
) -> Status[dict[str, object]]:
    services.queue_join(caller=request.auth, advisor_id=advisor_id, kind=payload.kind)
    return Status(201, _place(request, advisor_id))


@router.get("/advisors/{advisor_id}/queue", response=QueuePlaceOut, auth=END_USERS)
def queue_place(
    request: AuthenticatedRequest, advisor_id: int = Path(ge=1, le=MAX_ID)
) -> dict[str, object]:
    return _place(request, advisor_id)


@router.delete("/advisors/{advisor_id}/queue", response={204: None}, auth=END_USERS)
def queue_leave(
    request: AuthenticatedRequest, advisor_id: int = Path(ge=1, le=MAX_ID)
) -> Status[None]:
    services.queue_leave(caller=request.auth, advisor_id=advisor_id)
    return Status(204, None)


@router.get("/advisor/me/queue", response=list[QueueCallerOut], auth=TokenAuth(roles=ADVISOR_ROLES))
def queue_for_advisor(request: AuthenticatedRequest) -> list[dict[str, object]]:
    return [
        {
            "position": index + 1,
            "caller_name": entry.caller.display_name,
            "kind": entry.kind,
            "status": entry.status,
            "since": entry.created_at,
            "offer_expires_at": entry.offer_expires_at,
        }
        for index, entry in enumerate(selectors.queue_for_advisor(user=request.auth))
    ]


class SandboxPresenceIn(Schema):
    present: bool


@router.post("/calls/{call_id}/sandbox/presence", response={204: None}, auth=PARTIES)
def call_sandbox_presence(
    request: AuthenticatedRequest, call_id: Id, payload: SandboxPresenceIn
) -> Status[None]:
    """Offline demo only (LiveKit is the local sandbox): join or leave the room as this
    party's client would. 409 `not_sandbox` with a real LiveKit."""
    services.call_sandbox_presence(user=request.auth, call_id=call_id, present=payload.present)
    return Status(204, None)


@router.post("/calls/{call_id}/hangup", response=CallOut, auth=PARTIES)
def call_hangup(request: AuthenticatedRequest, call_id: Id) -> dict[str, object]:
    services.call_hangup(user=request.auth, call_id=call_id)
    return _out(_fresh(request, call_id))


@router.get("/calls/{call_id}/receipt", response=CallReceiptOut, auth=PARTIES)
def call_receipt(request: AuthenticatedRequest, call_id: Id) -> dict[str, object]:
    call = _fresh(request, call_id)
    if call.settled_at is None:
        raise CallNotFound("This call has no receipt (yet).", field="call_id")
    is_advisor = call.advisor.user_id == request.auth.pk
    return {
        "call_id": call.pk,
        "kind": call.kind,
        "advisor": {"id": call.advisor_id, "display_name": call.advisor.display_name},
        "talk_seconds": call.talk_seconds,
        "free_seconds": call.free_seconds,
        "rate": call.rate_minor_per_minute,
        "billing_mode": call.billing_mode,
        "amount": call.cost_minor,
        "promotion": call.promotion_minor,
        "currency": call.currency,
        "ended_at": call.ended_at,
        # The split is the advisor's business, not the caller's.
        "split": {
            "advisor": call.advisor_minor,
            "licensee": call.licensee_minor,
            "platform": call.callrix_minor,  # the platform fee
            "callrix": call.callrix_minor,  # its earlier name, for existing clients
            # The commission the advisor was paid at (their own override, or the default).
            **selectors.settlement_shares(call_id=call.pk),
        }
        if is_advisor
        else None,
    }


@router.post(
    "/calls/{call_id}/review", response={201: ReviewOut}, auth=TokenAuth(roles=END_USER_ROLES)
)
def call_review(
    request: AuthenticatedRequest, call_id: Id, payload: ReviewIn
) -> Status[dict[str, object]]:
    review = services.review_create(
        caller=request.auth, call_id=call_id, rating=payload.rating, comment=payload.comment
    )
    return Status(
        201, {"call_id": review.call_id, "rating": review.rating, "comment": review.comment}
    )


@router.get("/me/spending-cap", response=CapOut, auth=TokenAuth(roles=END_USER_ROLES))
def spending_cap_get(request: AuthenticatedRequest) -> dict[str, int | None]:
    cap = getattr(request.auth, "spending_cap", None)
    return {"monthly_limit": cap.monthly_limit_minor if cap else None}


@router.put("/me/spending-cap", response=CapOut, auth=TokenAuth(roles=END_USER_ROLES))
def spending_cap_put(request: AuthenticatedRequest, payload: CapIn) -> dict[str, int | None]:
    cap = services.spending_cap_set(user=request.auth, monthly_limit_minor=payload.monthly_limit)
    return {"monthly_limit": cap.monthly_limit_minor if cap else None}
