"""The wallet history as a person reads it: one line per business event, in their language
("Call with Luna Starling, 1 min 35 s", −€3.17), the reserve of a running call shown only
while it runs, and a link to each call's receipt. Pages and the API both read it here.

A call's line names its advisor and the session's kind (a call, a chat, a video call), which
only the calls app knows; it registers a reader of both by call id
(`call_names_reader_register`), as tenancy's figure readers are registered, so that wallets
keeps importing no other app."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branding.selectors import brand_current
from kernel.tenant_connection import connection
from tenant_apps.wallets.selectors import WalletEvent, wallet_events

# {call id: (advisor's display name, session kind: "voice", "chat" or "video")}
CallNamesReader = Callable[[list[int]], dict[int, tuple[str, str]]]
_call_names: list[CallNamesReader] = []


def call_names_reader_register(reader: CallNamesReader) -> None:
    """The calls app's reader: {call id: (advisor's display name, kind)} for the ids asked."""
    if reader not in _call_names:
        _call_names.append(reader)


def _advisor_names(call_ids: list[int]) -> dict[int, tuple[str, str]]:
    names: dict[int, tuple[str, str]] = {}
    for reader in _call_names:
        names.update(reader(call_ids))
    return names


@dataclass(frozen=True)
class WalletLine:
    key: str
    kind: str
    created_at: datetime
    text: str
    amount_minor: int
    reserved_minor: int
    reserved_text: str  # "€4.00 reserved for your call" while a call runs, else ""
    call_id: int | None
    receipt_path: str  # the call's page with its receipt, or ""
    first_entry_id: int


def duration_text(seconds: int) -> str:
    """95 -> "1 min 35 s" in the active language."""
    minutes, rest = divmod(max(seconds, 0), 60)
    if not minutes:
        return _("%(seconds)d s") % {"seconds": rest}
    if not rest:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": rest}


# A session's line by its kind: running, talked for a duration, never answered.
_SESSION_TEXTS = {
    "voice": (
        gettext_lazy("Call with %(advisor)s in progress"),
        gettext_lazy("Call with %(advisor)s, %(duration)s"),
        gettext_lazy("Call with %(advisor)s, not answered"),
    ),
    "chat": (
        gettext_lazy("Chat with %(advisor)s in progress"),
        gettext_lazy("Chat with %(advisor)s, %(duration)s"),
        gettext_lazy("Chat with %(advisor)s, not answered"),
    ),
    "video": (
        gettext_lazy("Video call with %(advisor)s in progress"),
        gettext_lazy("Video call with %(advisor)s, %(duration)s"),
        gettext_lazy("Video call with %(advisor)s, not answered"),
    ),
}


def _text(
    event: WalletEvent, advisor: str, money: Callable[[int], str], kind: str = "voice"
) -> str:
    if event.kind == "topup":
        paid = money(event.amount_minor - event.bonus_minor)
        if event.bonus_minor:
            return _("Top-up %(amount)s + %(bonus)s bonus") % {
                "amount": paid,
                "bonus": money(event.bonus_minor),
            }
        return _("Top-up %(amount)s") % {"amount": paid}
    if event.kind == "call":
        running, talked, unanswered = _SESSION_TEXTS.get(kind, _SESSION_TEXTS["voice"])
        if not event.settled:
            return str(running) % {"advisor": advisor}
        if event.talk_seconds:
            return str(talked) % {
                "advisor": advisor,
                "duration": duration_text(event.talk_seconds),
            }
        return str(unanswered) % {"advisor": advisor}
    if event.kind == "refund":
        return _("Refund to your card")
    if event.kind == "credit":
        name = getattr(connection.tenant, "display_name", "") or ""
        return _("Credit from %(name)s") % {"name": name} if name else _("Credit")
    if event.kind == "dispute":
        if event.won is None:
            return _("Card dispute: %(amount)s frozen") % {"amount": money(-event.amount_minor)}
        if event.won:
            return _("Card dispute won: credit restored")
        return _("Card dispute lost: the amount went back to the cardholder")
    return event.description or event.kind


def wallet_lines(
    *, user_id: int, limit: int, offset: int = 0, money: Callable[[int], str] | None = None
) -> tuple[int, list[WalletLine]]:
    """A page of the person's history, newest first, and how many lines there are in all.
    `money` formats an amount for the page (default: as the licensee's brand shows money in
    the active language, `kernel.formatting`)."""
    show = money or brand_current().money
    count, events = wallet_events(user_id=user_id, limit=limit, offset=offset)
    names = _advisor_names(_ids(event.call_id for event in events))
    lines = []
    for event in events:
        advisor, session_kind = names.get(event.call_id or 0) or (_("your advisor"), "voice")
        running = event.kind == "call" and not event.settled and event.reserved_minor > 0
        lines.append(
            WalletLine(
                key=event.key,
                kind=event.kind,
                created_at=event.started_at,
                text=_text(event, advisor, show, session_kind),
                amount_minor=event.amount_minor,
                reserved_minor=event.reserved_minor if running else 0,
                reserved_text=(
                    _("%(amount)s reserved for your call") % {"amount": show(event.reserved_minor)}
                    if running
                    else ""
                ),
                call_id=event.call_id,
                receipt_path=f"/calls/{event.call_id}/" if event.call_id else "",
                first_entry_id=event.first_entry_id,
            )
        )
    return count, lines


def _ids(values: Iterable[int | None]) -> list[int]:
    return sorted({value for value in values if value})
