"""A line for a busy advisor: join, leave, and the offer to the first in line once the
advisor is free. While an offer stands the advisor stays `busy` (reserved for that caller);
when it runs out (QUEUE_OFFER_SECONDS) the next is offered, and when nobody is left the
advisor is online again. Credit is checked on joining and again on offering."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from dramatiq import Actor

from identity.models import User
from kernel.job_outbox.services import job_send_on_commit
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.errors import (
    AdvisorAvailable,
    AdvisorUnavailable,
    NotInQueue,
    QueueConflict,
)
from tenant_apps.calls.models import QueueEntry
from tenant_apps.calls.services.admission import session_admit, session_minimum_minor
from tenant_apps.notifications.services import push_request
from tenant_apps.wallets import selectors as wallet_selectors

QUEUE_OFFER_SECONDS = 60
ACTIVE = [QueueEntry.Status.WAITING, QueueEntry.Status.OFFERED]


def _affordable(caller_id: int, rate: int) -> bool:
    balance = wallet_selectors.wallet_balance_get(user_id=caller_id)
    return balance.owed_minor == 0 and balance.available_minor >= session_minimum_minor(rate)


def _advisor_in_session(advisor: Advisor) -> None:
    """A line forms only behind an advisor who is in a session."""
    if advisor.status == Advisor.Status.ONLINE:
        raise AdvisorAvailable(
            _("%(name)s is free: start the session now.") % {"name": advisor.display_name},
            field="advisor_id",
        )
    if advisor.status == Advisor.Status.OFFLINE:
        raise AdvisorUnavailable(
            _("%(name)s is not available right now.") % {"name": advisor.display_name},
            field="advisor_id",
        )


def queue_join(*, caller: User, advisor_id: int, kind: str) -> QueueEntry:
    with transaction.atomic():
        admitted = session_admit(
            caller=caller,
            advisor_id=advisor_id,
            kind=kind,
            purpose="wait",
            advisor_check=_advisor_in_session,
        )
        try:
            with transaction.atomic():
                return QueueEntry.objects.create(advisor=admitted.advisor, caller=caller, kind=kind)
        except IntegrityError:
            raise QueueConflict(
                _("You are already waiting in a line."), field="advisor_id"
            ) from None


def queue_leave(*, caller: User, advisor_id: int) -> None:
    with transaction.atomic():
        advisor = Advisor.objects.select_for_update().filter(pk=advisor_id).first()
        entry = (
            QueueEntry.objects.select_for_update()
            .filter(caller=caller, advisor_id=advisor_id, status__in=ACTIVE)
            .first()
        )
        if advisor is None or entry is None:
            raise NotInQueue(_("You are not waiting for this advisor."), field="advisor_id")
        was_offered = entry.status == QueueEntry.Status.OFFERED
        entry.status = QueueEntry.Status.LEFT
        entry.ended_at = timezone.now()
        entry.save(update_fields=["status", "ended_at"])
        if was_offered:
            _release_advisor(advisor)


def queue_offer_next(advisor: Advisor) -> QueueEntry | None:
    """Offer the session to the first in line who can still pay for it (in the caller's
    transaction, the advisor locked). The caller of this keeps the advisor `busy` when an
    offer is made; nobody in line leaves the advisor as it was."""
    from tenant_apps.calls import tasks

    waiting = QueueEntry.objects.select_for_update().filter(
        advisor=advisor, status=QueueEntry.Status.WAITING
    )
    now = timezone.now()
    for entry in waiting.order_by("id"):
        rate = advisor.rate_for(entry.kind)
        if rate is None or not _affordable(entry.caller_id, rate):
            entry.status = QueueEntry.Status.SKIPPED
            entry.ended_at = now
            entry.save(update_fields=["status", "ended_at"])
            push_request(
                user_ids=[entry.caller_id],
                kind="queue_skipped",
                data={"advisor_id": advisor.pk},
                title=_("Your turn came"),
                body=_("There was not enough credit for the session; top up and join again."),
            )
            continue
        entry.status = QueueEntry.Status.OFFERED
        entry.offered_at = now
        entry.offer_expires_at = now + timedelta(seconds=QUEUE_OFFER_SECONDS)
        entry.save(update_fields=["status", "offered_at", "offer_expires_at"])
        push_request(
            user_ids=[entry.caller_id],
            kind="queue_offer",
            urgent=True,
            data={"advisor_id": advisor.pk, "session_kind": entry.kind},
            title=_("%(name)s is free for you now") % {"name": advisor.display_name},
            body=_("Start your session within a minute to keep your turn."),
        )
        _expire_later(tasks.queue_offer_expire, entry.pk)
        return entry
    return None


def _expire_later(actor: Actor[..., Any], entry_id: int) -> None:
    job_send_on_commit(actor, entry_id, delay_ms=QUEUE_OFFER_SECONDS * 1000)


def _release_advisor(advisor: Advisor) -> None:
    """An offer ended unused: the next in line gets it, or the advisor is online again."""
    if (
        advisor.status != Advisor.Status.BUSY
        or advisor.calls.filter(status__in=["ringing", "connected"]).exists()
    ):
        return
    if queue_offer_next(advisor) is None:
        advisor.status = Advisor.Status.OFFLINE if advisor.suspended else Advisor.Status.ONLINE
        advisor.save(update_fields=["status"])


def queue_offer_expire(*, entry_id: int) -> str:
    with transaction.atomic():
        entry = QueueEntry.objects.filter(pk=entry_id).first()
        if entry is None:
            return "gone"
        advisor = Advisor.objects.select_for_update().get(pk=entry.advisor_id)
        entry = QueueEntry.objects.select_for_update().get(pk=entry_id)
        if entry.status != QueueEntry.Status.OFFERED:
            return entry.status
        if entry.offer_expires_at and timezone.now() < entry.offer_expires_at:
            return "still offered"
        entry.status = QueueEntry.Status.EXPIRED
        entry.ended_at = timezone.now()
        entry.save(update_fields=["status", "ended_at"])
        _release_advisor(advisor)
    return "expired"


def queue_offer_claim(*, caller: User, advisor: Advisor) -> QueueEntry | None:
    """The standing offer of this advisor to this caller, locked, if it has not run out."""
    return (
        QueueEntry.objects.select_for_update()
        .filter(
            advisor=advisor,
            caller=caller,
            status=QueueEntry.Status.OFFERED,
            offer_expires_at__gt=timezone.now(),
        )
        .first()
    )
