"""Creating promotion codes and redeeming them. A redemption locks its promotion row, so the
limits (per user, in total) hold however many people redeem at once; no outside call runs
while that lock is held. The money moves from the promotion-credit ledger account where it
is owed: a top-up bonus by payments when Stripe says the top-up was paid
(`promotion_topup_credited`), a first session's free seconds by the call's settlement
(`promotion_session_settled`). Refunds and erasure take unspent bonus back
(`promotion_reclaim_record`, `promotion_credit_reclaim`)."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.models import User
from tenant_apps.promotions.errors import (
    PromoCodeRefused,
    PromoCodeUsedUp,
    PromotionCodeTaken,
    PromotionInvalid,
)
from tenant_apps.promotions.models import Promotion, PromotionUse

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
TOPUP_KINDS = (Promotion.Kind.TOPUP_PERCENT, Promotion.Kind.TOPUP_FIXED)


def promotion_create(
    *,
    code: str,
    kind: str,
    percent: int | None = None,
    amount_minor: int | None = None,
    free_seconds: int | None = None,
    max_uses_per_user: int = 1,
    max_uses_total: int | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Promotion:
    code = code.strip().upper()
    if not CODE_PATTERN.match(code):
        raise PromotionInvalid(_("A code is 3 to 40 letters, digits, - or _."), field="code")
    needed = {
        Promotion.Kind.TOPUP_PERCENT: ("percent", percent),
        Promotion.Kind.TOPUP_FIXED: ("amount", amount_minor),
        Promotion.Kind.FIRST_SESSION_SECONDS: ("free_seconds", free_seconds),
    }
    if kind not in needed:
        raise PromotionInvalid(_("Unknown kind of promotion."), field="kind")
    field, value = needed[Promotion.Kind(kind)]
    if not value or value < 1 or (field == "percent" and value > 100):
        raise PromotionInvalid(_("Say how much this promotion gives."), field=field)
    starts_at = starts_at or timezone.now()
    if ends_at is not None and ends_at <= starts_at:
        raise PromotionInvalid(_("The promotion must end after it starts."), field="ends_at")
    try:
        with transaction.atomic():
            return Promotion.objects.create(
                code=code,
                kind=kind,
                percent=percent if field == "percent" else None,
                amount_minor=amount_minor if field == "amount" else None,
                free_seconds=free_seconds if field == "free_seconds" else None,
                max_uses_per_user=max_uses_per_user,
                max_uses_total=max_uses_total,
                starts_at=starts_at,
                ends_at=ends_at,
            )
    except IntegrityError:
        raise PromotionCodeTaken(_("This code exists already."), field="code") from None


def _redeemable(*, user: User, code: str, kinds: tuple[str, ...]) -> Promotion:
    """The code's promotion, locked, if this user may redeem it for one of `kinds` now."""
    promotion = Promotion.objects.select_for_update().filter(code=code.strip().upper()).first()
    if promotion is None or promotion.kind not in kinds:
        raise PromoCodeRefused(_("This code is not valid here."), field="promo_code")
    now = timezone.now()
    if now < promotion.starts_at or (promotion.ends_at and now >= promotion.ends_at):
        raise PromoCodeRefused(_("This code is not valid at this time."), field="promo_code")
    uses = PromotionUse.objects.filter(promotion=promotion).exclude(
        status=PromotionUse.Status.RELEASED
    )
    if uses.filter(user=user).count() >= promotion.max_uses_per_user:
        raise PromoCodeUsedUp(_("You have already used this code."), field="promo_code")
    if promotion.max_uses_total is not None and uses.count() >= promotion.max_uses_total:
        raise PromoCodeUsedUp(_("This code has been used up."), field="promo_code")
    return promotion


def topup_bonus_minor(promotion: Promotion, amount_minor: int) -> int:
    """A percentage rounds down: a promotion never gives more than it says."""
    if promotion.kind == Promotion.Kind.TOPUP_PERCENT:
        return amount_minor * (promotion.percent or 0) // 100
    return promotion.amount_minor or 0


def promotion_topup_reserve(
    *, user: User, code: str, topup_id: int, amount_minor: int
) -> PromotionUse:
    """Redeem a code for a top-up being opened (in the caller's transaction). The use counts
    against the limits at once; its bonus is credited when the payment succeeds."""
    with transaction.atomic():
        promotion = _redeemable(user=user, code=code, kinds=TOPUP_KINDS)
        return PromotionUse.objects.create(
            promotion=promotion,
            user=user,
            topup_id=topup_id,
            bonus_minor=topup_bonus_minor(promotion, amount_minor),
        )


def promotion_topup_release(*, topup_id: int) -> None:
    """The top-up never reached Stripe: its use counts no more."""
    PromotionUse.objects.filter(topup_id=topup_id, status=PromotionUse.Status.PENDING).update(
        status=PromotionUse.Status.RELEASED
    )


def promotion_topup_credited(*, topup_id: int) -> None:
    PromotionUse.objects.filter(topup_id=topup_id).update(status=PromotionUse.Status.CREDITED)


def promotion_session_redeem(
    *, user: User, code: str, call_id: int, first_session: bool
) -> PromotionUse:
    """Redeem a free-seconds code for a session being requested (in the caller's
    transaction): only a caller's first session with that advisor qualifies. The use is
    pending (and counts against the limits) until the session is settled."""
    if not first_session:
        raise PromoCodeRefused(
            _("This code is for a first session with an advisor."), field="promo_code"
        )
    with transaction.atomic():
        promotion = _redeemable(user=user, code=code, kinds=(Promotion.Kind.FIRST_SESSION_SECONDS,))
        return PromotionUse.objects.create(
            promotion=promotion,
            user=user,
            call_id=call_id,
            free_seconds=promotion.free_seconds or 0,
        )


def promotion_session_settled(*, call_id: int, value_minor: int) -> None:
    """The session was settled (in its transaction) and promotion credit paid `value_minor`
    for its free seconds; a session with nothing talked gave nothing, so its use counts no
    more (the caller's first session with that advisor is still to come)."""
    pending = PromotionUse.objects.filter(call_id=call_id, status=PromotionUse.Status.PENDING)
    if value_minor > 0:
        pending.update(status=PromotionUse.Status.CREDITED, bonus_minor=value_minor)
    else:
        pending.update(status=PromotionUse.Status.RELEASED)


def promotion_topup_use_lock(*, topup_id: int) -> PromotionUse | None:
    """The credited use of a code on this top-up, locked (a refund reclaims from it)."""
    return (
        PromotionUse.objects.select_for_update()
        .filter(topup_id=topup_id, status=PromotionUse.Status.CREDITED)
        .first()
    )


def promotion_reclaim_record(*, use: PromotionUse, amount_minor: int) -> None:
    """Promotion credit took `amount_minor` of this use's bonus back (in the posting's
    transaction, the use locked)."""
    use.reclaimed_minor += amount_minor
    use.save(update_fields=["reclaimed_minor"])


def promotion_credit_reclaim(*, user_id: int, available_minor: int) -> int:
    """On closing an account: what of the person's unspent credit goes back to promotion
    credit rather than to the other promotions — the top-up bonuses their codes gave and no
    refund took back yet, newest first, at most `available_minor`. Recorded on the uses;
    the caller posts it (in this transaction)."""
    uses = (
        PromotionUse.objects.select_for_update()
        .filter(user_id=user_id, topup_id__isnull=False, status=PromotionUse.Status.CREDITED)
        .order_by("-created_at", "-id")
    )
    taken = 0
    for use in uses:
        part = min(use.bonus_minor - use.reclaimed_minor, available_minor - taken)
        if part > 0:
            promotion_reclaim_record(use=use, amount_minor=part)
            taken += part
    return taken
