"""The messages of a chat session: sent, read, typed, and deleted when their time is up.

Browsers carry messages to each other over the room's LiveKit data channel as they are
typed; each is also stored here, which is what the history, the end user's export, erasure
and the retention rule work on. Typing is a few seconds of state, so it lives in the cache.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.models import User
from kernel.tenant_connection import connection
from tenant_apps.advisors.models import SessionKind
from tenant_apps.calls.errors import CallNotFound, CallStateConflict, ChatMessageInvalid
from tenant_apps.calls.models import Call, ChatMessage

CHAT_MESSAGE_MAX_CHARS = 2_000
TYPING_SECONDS = 5


def _party_call(user: User, call_id: int) -> Call:
    call = (
        Call.objects.filter(Q(caller=user) | Q(advisor__user=user), pk=call_id)
        .select_related("advisor")
        .first()
    )
    if call is None:
        raise CallNotFound(_("There is no such call."), field="call_id")
    return call


def _open_chat(user: User, call_id: int) -> Call:
    call = _party_call(user, call_id)
    if call.kind != SessionKind.CHAT:
        raise CallStateConflict(_("This session is not a chat."), field="call_id")
    # The caller may write while it rings; both while it runs; nobody after the end.
    writable = call.status == Call.Status.CONNECTED or (
        call.status == Call.Status.RINGING and user.pk == call.caller_id
    )
    if not writable:
        raise CallStateConflict(_("This chat has ended."), field="call_id")
    return call


def chat_message_send(*, user: User, call_id: int, text: str) -> ChatMessage:
    text = text.strip()
    if not text:
        raise ChatMessageInvalid(_("Write something first."), field="text")
    if "\x00" in text or len(text) > CHAT_MESSAGE_MAX_CHARS:
        raise ChatMessageInvalid(
            _("A message is plain text of at most %(count)d characters.")
            % {"count": CHAT_MESSAGE_MAX_CHARS},
            field="text",
        )
    call = _open_chat(user, call_id)
    message = ChatMessage.objects.create(call=call, sender=user, text=text)
    cache.delete(_typing_key(call.pk, user.pk))
    return message


def chat_messages_read(*, user: User, call_id: int, up_to_id: int) -> int:
    """Mark the other party's messages up to `up_to_id` as read by this user."""
    call = _party_call(user, call_id)
    with transaction.atomic():
        return (
            ChatMessage.objects.filter(call=call, id__lte=up_to_id, read_at__isnull=True)
            .exclude(sender=user)
            .update(read_at=timezone.now())
        )


def _typing_key(call_id: int, user_id: int) -> str:
    return f"chat-typing:{connection.schema_name}:{call_id}:{user_id}"


def chat_typing_mark(*, user: User, call_id: int) -> None:
    call = _open_chat(user, call_id)
    cache.set(_typing_key(call.pk, user.pk), 1, timeout=TYPING_SECONDS)


def chat_peer_typing(*, call: Call, user: User) -> bool:
    peer = call.advisor.user_id if user.pk == call.caller_id else call.caller_id
    return bool(cache.get(_typing_key(call.pk, peer)))


def chat_retention_days() -> int:
    return int(settings.CHAT_RETENTION_DAYS)


def chat_messages_expire(*, now: datetime | None = None) -> int:
    """The retention rule: a session's messages are deleted CHAT_RETENTION_DAYS after it
    ended (long enough to handle a complaint or a refund about it). Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=chat_retention_days())
    with transaction.atomic():
        deleted, _counts = ChatMessage.objects.filter(
            call__ended_at__isnull=False, call__ended_at__lt=cutoff
        ).delete()
    return deleted
