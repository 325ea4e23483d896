"""Every change to payments: connecting Stripe, top-ups, webhook events, refunds, credits."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branding.mail import branded_email_send
from branding.selectors import brand_current
from identity.models import User
from identity.services import user_lock
from kernel import crypto
from kernel.errors import DomainError
from kernel.money import format_minor, stripe_amount_ok
from kernel.tenant_connection import connection
from tenant_apps.payments import connect_events, selectors, stripe_gateway
from tenant_apps.payments.errors import (
    BadWebhook,
    InvalidStripeKeys,
    InvalidTopUp,
    RefundRefused,
    StripeNotConnected,
    StripeUnavailable,
    TopUpNotFound,
)
from tenant_apps.payments.models import (
    CreditGrant,
    Dispute,
    Refund,
    StripeConnection,
    StripeEvent,
    TopUp,
    TopUpPackage,
    TopUpPolicy,
)
from tenant_apps.payments.stripe_gateway import StripeJson
from tenant_apps.promotions import services as promotion_services
from tenant_apps.wallets.errors import IdempotencyMismatch, InvalidAmount
from tenant_apps.wallets.models import AccountKind, LedgerAccount, LedgerTransaction
from tenant_apps.wallets.selectors import licensee_currency
from tenant_apps.wallets.services import (
    Leg,
    account_for,
    accounts_lock,
    credit_legs,
    ledger_post,
)
from tenants.bridge import licensee_current

logger = logging.getLogger(__name__)

_KEY_PATTERNS = {
    "secret_key": re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$"),
    "publishable_key": re.compile(r"^pk_(test|live)_[A-Za-z0-9_]{8,}$"),
    "webhook_secret": re.compile(r"^whsec_[A-Za-z0-9_]{8,}$"),
}


# --- The licensee's Stripe account ---------------------------------------------------------


def stripe_connect(
    *,
    secret_key: str,
    publishable_key: str,
    webhook_secret: str,
    admin: User,
    connect_webhook_secret: str | None = None,
) -> StripeConnection:
    """Connect (or rotate) the licensee's Stripe keys after proving them with a live call.
    `connect_webhook_secret` (the Connect endpoint's signing secret) is kept as it is when
    not given."""
    keys = {
        "secret_key": secret_key.strip(),
        "publishable_key": publishable_key.strip(),
        "webhook_secret": webhook_secret.strip(),
    }
    connect_secret = (connect_webhook_secret or "").strip()
    if connect_secret and not _KEY_PATTERNS["webhook_secret"].match(connect_secret):
        raise InvalidStripeKeys(
            "This does not look like a Stripe webhook signing secret.",
            field="connect_webhook_secret",
        )
    if connect_secret and connect_secret == keys["webhook_secret"]:
        raise InvalidStripeKeys(
            "The Connect endpoint has its own signing secret at Stripe, not the account "
            "endpoint's.",
            field="connect_webhook_secret",
        )
    for field, value in keys.items():
        if not _KEY_PATTERNS[field].match(value):
            raise InvalidStripeKeys(
                f"This does not look like a Stripe {field.replace('_', ' ')}.", field=field
            )
    secret_mode = keys["secret_key"].split("_")[1]
    if keys["publishable_key"].split("_")[1] != secret_mode:
        raise InvalidStripeKeys(
            "The publishable key and the secret key are from different modes (test/live).",
            field="publishable_key",
        )
    account = stripe_gateway.account_fetch(secret_key=keys["secret_key"])
    with transaction.atomic():
        connection_row = StripeConnection.objects.select_for_update().first()
        if connection_row is None:
            connection_row = StripeConnection()
        connection_row.secret_key_encrypted = crypto.encrypt(keys["secret_key"])
        connection_row.publishable_key = keys["publishable_key"]
        connection_row.webhook_secret_encrypted = crypto.encrypt(keys["webhook_secret"])
        if connect_secret:
            connection_row.connect_webhook_secret_encrypted = crypto.encrypt(connect_secret)
        connection_row.account_id = account.account_id
        connection_row.account_name = account.name
        connection_row.livemode = account.livemode
        connection_row.connected_by_id = admin.pk
        connection_row.save()
    return connection_row


def _secret_key() -> str:
    row = selectors.stripe_connection_get()
    if row is None:
        raise StripeNotConnected(
            "Payments are not set up yet: the licensee has not connected its Stripe account."
        )
    return crypto.decrypt(row.secret_key_encrypted)


# --- Packages and limits ----------------------------------------------------------------------


def topup_sandbox_pay(*, user: User, topup_id: int, succeed: bool) -> TopUp:
    """The offline demo's card form: the local Stripe sandbox has no Stripe.js, so the
    customer's payment is played through it; its signed webhook then credits the wallet
    exactly as Stripe's would. Only for a licensee connected with sandbox keys."""
    topup = selectors.topup_get_for_user(user_id=user.pk, topup_id=topup_id)
    if topup is None:
        raise TopUpNotFound("There is no such top-up.", field="topup_id")
    if topup.status != TopUp.Status.PENDING or not topup.payment_intent_id:
        raise InvalidTopUp(f"This top-up is already {topup.status}.", field="topup_id")
    stripe_gateway.sandbox_card_payment(
        secret_key=_secret_key(), payment_intent_id=topup.payment_intent_id, succeed=succeed
    )
    return topup


def topup_policy_set(*, min_amount_minor: int, max_amount_minor: int) -> TopUpPolicy:
    if min_amount_minor <= 0:
        raise InvalidTopUp("The minimum must be positive.", field="min_amount")
    if max_amount_minor < min_amount_minor:
        raise InvalidTopUp("The maximum must be at least the minimum.", field="max_amount")
    policy, _ = TopUpPolicy.objects.update_or_create(
        singleton=True,
        defaults={"min_amount_minor": min_amount_minor, "max_amount_minor": max_amount_minor},
    )
    return policy


def topup_package_create(
    *, code: str, name: str, amount_minor: int, bonus_minor: int = 0
) -> TopUpPackage:
    if amount_minor <= 0:
        raise InvalidTopUp("The amount must be positive.", field="amount")
    if bonus_minor < 0:
        raise InvalidTopUp("The bonus cannot be negative.", field="bonus")
    _stripe_amount_check(amount_minor, licensee_currency())
    if TopUpPackage.objects.filter(code=code).exists():
        raise InvalidTopUp("A package with this code exists.", field="code")
    return TopUpPackage.objects.create(
        code=code, name=name.strip() or code, amount_minor=amount_minor, bonus_minor=bonus_minor
    )


def _stripe_amount_check(amount_minor: int, currency: str, field: str = "amount") -> None:
    """Stripe charges and refunds three-decimal currencies only in steps of ten minor units."""
    if not stripe_amount_ok(amount_minor, currency):
        raise InvalidTopUp(
            _("Payments in %(currency)s must be a multiple of %(step)s.")
            % {"currency": currency, "step": brand_current().money(10)},
            field=field,
        )


# --- Top-ups -------------------------------------------------------------------------------


def topup_create(
    *,
    user: User,
    amount_minor: int | None = None,
    package_code: str | None = None,
    promo_code: str | None = None,
) -> TopUp:
    """Open a top-up: a PaymentIntent on the licensee's Stripe account for the client to pay.
    The wallet is credited only when Stripe's signed webhook says the payment succeeded.
    A promotion code is redeemed with the top-up's row, before Stripe is asked (its row lock
    never waits on Stripe); a top-up Stripe then refuses fails and the code's use is released."""
    if (amount_minor is None) == (package_code is None):
        raise InvalidTopUp("Give either an amount or a package.", field="amount")
    package = None
    bonus = 0
    if package_code is not None:
        package = TopUpPackage.objects.filter(code=package_code, active=True).first()
        if package is None:
            raise InvalidTopUp("There is no such package.", field="package")
        amount_minor, bonus = package.amount_minor, package.bonus_minor
    else:
        assert amount_minor is not None  # exactly one of the two was given (checked above)
        policy = selectors.topup_policy_get()
        currency = licensee_currency()
        if amount_minor < policy.min_amount_minor:
            raise InvalidTopUp(
                _("The smallest top-up is %(amount)s.")
                % {"amount": brand_current().money(policy.min_amount_minor)},
                field="amount",
            )
        if amount_minor > policy.max_amount_minor:
            raise InvalidTopUp(
                _("The largest top-up is %(amount)s.")
                % {"amount": brand_current().money(policy.max_amount_minor)},
                field="amount",
            )
    currency = licensee_currency()
    _stripe_amount_check(amount_minor, currency)
    secret_key = _secret_key()
    with transaction.atomic():
        # Under the person's lock, as erasure takes it: an erasure committed first is seen
        # here; one starting now waits, then sees this pending top-up and refuses.
        user_lock(user_id=user.pk)
        topup = TopUp.objects.create(
            user=user,
            package=package,
            amount_minor=amount_minor,
            bonus_minor=bonus,
            currency=currency,
        )
        if promo_code:
            use = promotion_services.promotion_topup_reserve(
                user=user, code=promo_code, topup_id=topup.pk, amount_minor=amount_minor
            )
            topup.promotion_bonus_minor = use.bonus_minor
            topup.save(update_fields=["promotion_bonus_minor"])
    # Stripe is asked with no lock held; the top-up row is already there (pending), so
    # nothing is lost if the reply never comes: it is marked failed instead.
    try:
        intent = stripe_gateway.payment_intent_create(
            secret_key=secret_key,
            amount_minor=amount_minor,
            currency=currency,
            description=f"Top-up {topup.pk}",
            metadata={"topup_id": str(topup.pk), "schema": connection.schema_name},
            idempotency_key=f"topup-{connection.schema_name}-{topup.pk}",
        )
    except DomainError as error:
        with transaction.atomic():
            TopUp.objects.filter(pk=topup.pk, status=TopUp.Status.PENDING).update(
                status=TopUp.Status.FAILED, failure_message=error.detail[:500]
            )
            promotion_services.promotion_topup_release(topup_id=topup.pk)
        raise
    topup.payment_intent_id = intent.id
    topup.client_secret = intent.client_secret
    topup.save(update_fields=["payment_intent_id", "client_secret"])
    return topup


def _lock_user_accounts(user_id: int) -> tuple[LedgerAccount, LedgerAccount]:
    wallet = account_for(kind=AccountKind.WALLET, owner_id=user_id)
    debt = account_for(kind=AccountKind.DEBT, owner_id=user_id)
    locked = {
        a.pk: a for a in accounts_lock(LedgerAccount.objects.filter(pk__in=[wallet.pk, debt.pk]))
    }
    return locked[wallet.pk], locked[debt.pk]


def _incoming_legs(user_id: int, amount: int, source: LedgerAccount) -> list[Leg]:
    """Money for a user: the posting settles what they owe first, the rest goes to the wallet."""
    return credit_legs(user_id=user_id, amount_minor=amount, source=source)


def _outgoing_legs(user_id: int, amount: int, destination: LedgerAccount) -> list[Leg]:
    """Money taken from a user: from the wallet as far as it goes, the rest becomes debt."""
    wallet, debt = _lock_user_accounts(user_id)
    from_wallet = min(wallet.balance_minor, amount)
    legs = [Leg(destination, amount)]
    if from_wallet:
        legs.append(Leg(wallet, -from_wallet))
    if amount - from_wallet:
        legs.append(Leg(debt, -(amount - from_wallet)))
    return legs


def _topup_succeeded(topup: TopUp, intent: StripeJson) -> str:
    if topup.status == TopUp.Status.SUCCEEDED:
        return "already credited"
    currency = topup.currency
    ledger_post(
        idempotency_key=f"topup:{topup.pk}:credit",
        kind="topup",
        description=f"Top-up {format_minor(topup.amount_minor, currency)}",
        metadata={"topup_id": topup.pk, "payment_intent": topup.payment_intent_id},
        legs=_incoming_legs(
            topup.user_id, topup.amount_minor, account_for(kind=AccountKind.STRIPE_CLEARING)
        ),
    )
    if topup.bonus_minor:
        ledger_post(
            idempotency_key=f"topup:{topup.pk}:bonus",
            kind="bonus",
            description=f"Bonus credit {format_minor(topup.bonus_minor, currency)}",
            metadata={"topup_id": topup.pk},
            legs=_incoming_legs(
                topup.user_id, topup.bonus_minor, account_for(kind=AccountKind.PROMO)
            ),
        )
    if topup.promotion_bonus_minor:
        ledger_post(
            idempotency_key=f"topup:{topup.pk}:promotion",
            kind="promotion",
            description=f"Promotion credit {format_minor(topup.promotion_bonus_minor, currency)}",
            metadata={"topup_id": topup.pk},
            legs=_incoming_legs(
                topup.user_id,
                topup.promotion_bonus_minor,
                account_for(kind=AccountKind.PROMOTION_CREDIT),
            ),
        )
        promotion_services.promotion_topup_credited(topup_id=topup.pk)
    topup.status = TopUp.Status.SUCCEEDED
    topup.succeeded_at = timezone.now()
    topup.charge_id = intent.get("latest_charge") or topup.charge_id or ""
    topup.failure_message = ""
    topup.save(update_fields=["status", "succeeded_at", "charge_id", "failure_message"])
    transaction.on_commit(lambda: topup_receipt_send(topup_id=topup.pk))
    return "credited"


def _topup_failed(topup: TopUp, intent: StripeJson) -> str:
    if topup.status == TopUp.Status.SUCCEEDED:
        return "ignored: already succeeded"  # a late failure of an earlier attempt
    error = intent.get("last_payment_error") or {}
    topup.status = TopUp.Status.FAILED
    topup.failure_message = (error.get("message") or "The payment failed.")[:500]
    topup.save(update_fields=["status", "failure_message"])
    return "marked failed"


def bonus_reclaim_due(
    *, bonus_minor: int, amount_minor: int, refunded_total_minor: int, reclaimed_minor: int
) -> int:
    """The bonus a refund takes back: the bonus share of everything refunded so far (rounded
    down once, on the total), less what earlier refunds of the top-up already reclaimed."""
    share = bonus_minor * min(refunded_total_minor, amount_minor) // amount_minor
    return max(share - reclaimed_minor, 0)


def _book_refund(topup: TopUp, refunded_total: int) -> str:
    """Bring the ledger to Stripe's cumulative refunded amount for this top-up. Keyed by that
    cumulative amount, so the admin's own booking and Stripe's `charge.refunded` for the same
    refund meet on one key, and an older, smaller total arriving late changes nothing."""
    delta = refunded_total - topup.refunded_minor
    if delta <= 0:
        return "already booked"
    refunds = account_for(kind=AccountKind.REFUNDS)
    legs = _outgoing_legs(topup.user_id, delta, refunds)
    # The package bonus goes back in proportion to the refunded total, from what is left in
    # the wallet. Counted cumulatively (what the total so far calls for, less what earlier
    # refunds reclaimed), so rounding never loses a cent over several partial refunds.
    wallet, _ = _lock_user_accounts(topup.user_id)
    spent_from_wallet = next((-leg.amount_minor for leg in legs if leg.account.pk == wallet.pk), 0)
    bonus_due = bonus_reclaim_due(
        bonus_minor=topup.bonus_minor,
        amount_minor=topup.amount_minor,
        refunded_total_minor=refunded_total,
        reclaimed_minor=topup.bonus_reclaimed_minor,
    )
    bonus_back = min(bonus_due, wallet.balance_minor - spent_from_wallet)
    if bonus_back > 0:
        legs += [Leg(wallet, -bonus_back), Leg(account_for(kind=AccountKind.PROMO), bonus_back)]
    # A promotion code's bonus likewise (cumulatively, counted on the code's use), to
    # promotion credit, from what is still left.
    promotion_back = 0
    use = promotion_services.promotion_topup_use_lock(topup_id=topup.pk)
    if use is not None:
        promotion_back = min(
            bonus_reclaim_due(
                bonus_minor=use.bonus_minor,
                amount_minor=topup.amount_minor,
                refunded_total_minor=refunded_total,
                reclaimed_minor=use.reclaimed_minor,
            ),
            wallet.balance_minor - spent_from_wallet - max(bonus_back, 0),
        )
    if use is not None and promotion_back > 0:
        legs += [
            Leg(wallet, -promotion_back),
            Leg(account_for(kind=AccountKind.PROMOTION_CREDIT), promotion_back),
        ]
        promotion_services.promotion_reclaim_record(use=use, amount_minor=promotion_back)
    ledger_post(
        idempotency_key=f"topup:{topup.pk}:refunded:{refunded_total}",
        kind="refund",
        description=f"Refund of top-up {format_minor(delta, topup.currency)}",
        metadata={
            "topup_id": topup.pk,
            "refunded_total": refunded_total,
            "bonus_reclaimed": max(bonus_back, 0),
            "promotion_reclaimed": max(promotion_back, 0),
        },
        legs=legs,
    )
    topup.refunded_minor = refunded_total
    topup.bonus_reclaimed_minor += max(bonus_back, 0)
    topup.save(update_fields=["refunded_minor", "bonus_reclaimed_minor"])
    return f"refund of {delta} booked"


def _dispute_opened(topup: TopUp, dispute_object: StripeJson) -> str:
    dispute, created = Dispute.objects.get_or_create(
        stripe_dispute_id=dispute_object["id"],
        defaults={"topup": topup, "amount_minor": int(dispute_object["amount"])},
    )
    if not created:
        return "already open"
    ledger_post(
        idempotency_key=f"dispute:{dispute.stripe_dispute_id}:opened",
        kind="dispute",
        description=f"Card dispute: {format_minor(dispute.amount_minor, topup.currency)} frozen",
        metadata={"topup_id": topup.pk, "dispute": dispute.stripe_dispute_id},
        legs=_outgoing_legs(
            topup.user_id,
            dispute.amount_minor,
            account_for(kind=AccountKind.DISPUTED, owner_id=topup.user_id),
        ),
    )
    return "frozen"


def _dispute_closed(topup: TopUp, dispute_object: StripeJson) -> str:
    dispute = (
        Dispute.objects.select_for_update().filter(stripe_dispute_id=dispute_object["id"]).first()
    )
    if dispute is None:  # closed arrived before created: open it first, then close
        _dispute_opened(topup, dispute_object)
        dispute = Dispute.objects.select_for_update().get(stripe_dispute_id=dispute_object["id"])
    if dispute.status != Dispute.Status.OPEN:
        return "already closed"
    won = dispute_object.get("status") == "won"
    disputed = account_for(kind=AccountKind.DISPUTED, owner_id=topup.user_id)
    if won:
        legs = _incoming_legs(topup.user_id, dispute.amount_minor, disputed)
        description = "Card dispute won: credit restored"
    else:
        legs = [
            Leg(disputed, -dispute.amount_minor),
            Leg(account_for(kind=AccountKind.REFUNDS), dispute.amount_minor),
        ]
        description = "Card dispute lost: amount returned to the cardholder"
    ledger_post(
        idempotency_key=f"dispute:{dispute.stripe_dispute_id}:closed",
        kind="dispute",
        description=description,
        metadata={"topup_id": topup.pk, "dispute": dispute.stripe_dispute_id, "won": won},
        legs=legs,
    )
    dispute.status = Dispute.Status.WON if won else Dispute.Status.LOST
    dispute.closed_at = timezone.now()
    dispute.save(update_fields=["status", "closed_at"])
    return "won" if won else "lost"


def _topup_for_intent(intent_id: str | None) -> TopUp | None:
    if not intent_id:
        return None
    return TopUp.objects.select_for_update().filter(payment_intent_id=intent_id).first()


def _handle(event: StripeEvent) -> str:
    obj = (event.payload.get("data") or {}).get("object") or {}
    kind = event.type
    if event.account:
        # From the Connect endpoint: an advisor's connected account; the app that owns
        # advisors' accounts routes it by `account` (and ignores accounts not its own).
        connected_handler = connect_events.connected_account_handler(kind)
        if connected_handler is None:
            return "ignored: not a Connect event we act on"
        return connected_handler(obj, event.payload)
    if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        topup = _topup_for_intent(obj.get("id"))
        if topup is None:
            return "ignored: not one of our top-ups"
        handler = _topup_succeeded if kind.endswith("succeeded") else _topup_failed
        return handler(topup, obj)
    if kind == "charge.refunded":
        topup = _topup_for_intent(obj.get("payment_intent"))
        if topup is None:
            return "ignored: not one of our top-ups"
        if topup.status != TopUp.Status.SUCCEEDED:
            # Refunds are booked against a credited top-up; Stripe redelivers, and the
            # success event (arriving later) makes a retry of this one succeed.
            raise RuntimeError("refund for a top-up not yet credited; will retry")
        return _book_refund(topup, int(obj.get("amount_refunded") or 0))
    if kind in ("charge.dispute.created", "charge.dispute.closed"):
        topup = _topup_for_intent(obj.get("payment_intent"))
        if topup is None:
            return "ignored: not one of our top-ups"
        if kind.endswith("created"):
            return _dispute_opened(topup, obj)
        return _dispute_closed(topup, obj)
    # The platform's own Connect objects: the transfers that pay advisors (`transfer.created`
    # needs nothing: a payout is marked paid from Stripe's reply to the transfer itself).
    platform_handler = connect_events.platform_event_handler(kind)
    if platform_handler is not None:
        return platform_handler(obj, event.payload)
    return "ignored: not an event we act on"


def _event_store(event: StripeJson, *, account: str = "") -> tuple[StripeEvent, bool]:
    return StripeEvent.objects.get_or_create(
        event_id=event["id"],
        defaults={"type": event["type"], "payload": event, "account": account},
    )


def stripe_event_record(*, payload: bytes, signature: str) -> tuple[StripeEvent, bool]:
    """Verify a webhook with this licensee's signing secret and store it once by id.
    Returns the event and whether it is new."""
    row = selectors.stripe_connection_get()
    if row is None:
        raise BadWebhook("Payments are not set up for this platform.")
    event = stripe_gateway.webhook_event_parse(
        payload=payload,
        signature=signature,
        secret=crypto.decrypt(row.webhook_secret_encrypted),
    )
    return _event_store(event)


def stripe_connect_event_record(*, payload: bytes, signature: str) -> tuple[StripeEvent, bool]:
    """Verify a webhook of the licensee's Connect endpoint with that endpoint's own signing
    secret and store it once by id, with the connected account it is about (the event's
    top-level `account`, which Stripe sets on every Connect event)."""
    row = selectors.stripe_connection_get()
    if row is None or not row.connect_webhook_secret_encrypted:
        raise BadWebhook("Stripe Connect webhooks are not set up for this platform.")
    event = stripe_gateway.webhook_event_parse(
        payload=payload,
        signature=signature,
        secret=crypto.decrypt(row.connect_webhook_secret_encrypted),
    )
    account = event.get("account")
    if not isinstance(account, str) or not account.startswith("acct_"):
        raise BadWebhook("A Connect event names its connected account in `account`.")
    return _event_store(event, account=account)


def stripe_event_process(*, event_id: str) -> str:
    """Apply one stored event to our books — once, whatever order and however often
    events arrive. Raises to let the job retry when the event cannot be applied yet."""
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().filter(event_id=event_id).first()
        if event is None:
            return "unknown event"
        if event.processed_at is not None:
            return event.outcome
        outcome = _handle(event)
        event.processed_at = timezone.now()
        event.outcome = outcome[:300]
        event.save(update_fields=["processed_at", "outcome"])
    return outcome


# The job of a stored event is sent when it is stored; one still unprocessed this much later
# lost its job (Redis lost it, or it was never queued).
EVENT_SWEEP_AFTER = timedelta(minutes=5)


def stripe_events_unprocessed() -> list[str]:
    """Ids of stored events whose job should have run by now, oldest first."""
    cutoff = timezone.now() - EVENT_SWEEP_AFTER
    return list(
        StripeEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("event_id", flat=True)[:1000]
    )


# --- Admin actions -------------------------------------------------------------------------


def topup_refund(*, topup_id: int, amount_minor: int | None, reason: str, admin: User) -> Refund:
    """Refund (part of) a top-up through Stripe. Limited to what the user still has
    available, so an admin refund never puts a user in debt. Booked and recorded first, under
    the top-up's and the wallet's locks; Stripe is asked after that commits, with no lock
    held; its answer settles the refund (a pending one is asked again later)."""
    reason = (reason or "").strip()
    if not reason:
        raise RefundRefused("Say why you refund.", field="reason")
    secret_key = _secret_key()
    with transaction.atomic():
        topup = TopUp.objects.select_for_update().filter(pk=topup_id).first()
        if topup is None:
            raise TopUpNotFound("There is no such top-up.", field="topup_id")
        # A completed top-up always has its PaymentIntent (it completes by the intent's event).
        if topup.status != TopUp.Status.SUCCEEDED or topup.payment_intent_id is None:
            raise RefundRefused("Only a completed top-up can be refunded.", field="topup_id")
        refundable = topup.amount_minor - topup.refunded_minor
        amount = refundable if amount_minor is None else amount_minor
        if not stripe_amount_ok(amount, topup.currency):
            raise RefundRefused(
                _("Refunds in %(currency)s must be a multiple of %(step)s.")
                % {"currency": topup.currency, "step": brand_current().money(10)},
                field="amount",
            )
        if amount <= 0 or amount > refundable:
            raise RefundRefused(
                _("At most %(amount)s of this top-up can be refunded.")
                % {"amount": brand_current().money(refundable)},
                field="amount",
            )
        wallet, _hold = _lock_user_accounts(topup.user_id)
        if amount > wallet.balance_minor:
            raise RefundRefused(
                _("The user has only %(amount)s available to refund.")
                % {"amount": brand_current().money(wallet.balance_minor)},
                field="amount",
            )
        refunded_total = topup.refunded_minor + amount
        refund = Refund.objects.create(
            topup=topup,
            amount_minor=amount,
            refunded_total_minor=refunded_total,
            reason=reason[:500],
            requested_by_id=admin.pk,
            status=Refund.Status.PENDING,
        )
        _book_refund(topup, refunded_total)
    return _refund_at_stripe(refund, secret_key=secret_key)


def _refund_at_stripe(refund: Refund, *, secret_key: str) -> Refund:
    """Ask Stripe for a booked refund (no lock held) and settle it by the answer."""
    topup = refund.topup
    assert topup.payment_intent_id  # refunds are made of completed top-ups only
    try:
        stripe_refund = stripe_gateway.refund_create(
            secret_key=secret_key,
            payment_intent_id=topup.payment_intent_id,
            amount_minor=refund.amount_minor,
            metadata={"topup_id": str(topup.pk), "refund_id": str(refund.pk)},
            idempotency_key=(
                f"refund-{connection.schema_name}-{topup.pk}-{refund.refunded_total_minor}"
            ),
        )
    except RefundRefused as refusal:
        return _refund_failed(refund.pk, refusal.detail)
    except StripeUnavailable as error:
        logger.warning("Refund %s stays pending: %s", refund.pk, error.detail)
        return refund
    with transaction.atomic():
        settled = Refund.objects.select_for_update().get(pk=refund.pk)
        if settled.status == Refund.Status.PENDING:
            settled.status = Refund.Status.SUCCEEDED
            settled.stripe_refund_id = stripe_refund.id
            settled.save(update_fields=["status", "stripe_refund_id"])
    return settled


def _refund_failed(refund_id: int, message: str) -> Refund:
    """Stripe made no refund: the booking is reversed entry for entry, in one transaction."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("topup").get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund
        topup = TopUp.objects.select_for_update().get(pk=refund.topup_id)
        booking = LedgerTransaction.objects.filter(
            idempotency_key=f"topup:{topup.pk}:refunded:{refund.refunded_total_minor}"
        ).first()
        if booking is not None:
            ledger_post(
                idempotency_key=f"{booking.idempotency_key}:reversed",
                kind="refund",
                description="Refund not made by Stripe: booking reversed",
                metadata={"topup_id": topup.pk, "refund_id": refund.pk},
                legs=[
                    Leg(entry.account, -entry.amount_minor)
                    for entry in booking.entries.select_related("account")
                ],
            )
            topup.refunded_minor = max(topup.refunded_minor - refund.amount_minor, 0)
            topup.save(update_fields=["refunded_minor"])
        refund.status = Refund.Status.FAILED
        refund.failure_message = message[:500]
        refund.save(update_fields=["status", "failure_message"])
    return refund


def refunds_pending_retry(*, older_than_seconds: int = 60) -> int:
    """Ask Stripe again about refunds whose answer never came (same idempotency key, so
    Stripe returns the refund it may have made). Returns how many were asked."""
    row = selectors.stripe_connection_get()
    if row is None:
        return 0
    secret_key = crypto.decrypt(row.secret_key_encrypted)
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = Refund.objects.filter(status=Refund.Status.PENDING, created_at__lt=cutoff)
    asked = 0
    for refund in pending.select_related("topup").order_by("pk"):
        _refund_at_stripe(refund, secret_key=secret_key)
        asked += 1
    return asked


def credit_grant(
    *, user_id: int, amount_minor: int, reason: str, admin: User, idempotency_key: str
) -> CreditGrant:
    """Goodwill credit from the licensee's promotions account, recorded with who and why."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAmount("Say why you grant credit.", field="reason")
    if amount_minor <= 0:
        raise InvalidAmount("The amount must be positive.", field="amount")
    with transaction.atomic():
        existing = CreditGrant.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (existing.user_id, existing.amount_minor) != (user_id, amount_minor):
                raise IdempotencyMismatch(
                    "This idempotency key was already used for a different credit.",
                    field="idempotency_key",
                )
            return existing
        user = User.objects.filter(pk=user_id, role=User.Role.END_USER).first()
        if user is None:
            raise TopUpNotFound("There is no such end user.", field="user_id")
        # Concurrent grants for one person queue here; the later ones then find the first.
        user_lock(user_id=user.pk)
        existing = CreditGrant.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                grant = CreditGrant.objects.create(
                    user=user,
                    amount_minor=amount_minor,
                    reason=reason[:500],
                    granted_by_id=admin.pk,
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:  # the key was used meanwhile (for another person): its grant
            return CreditGrant.objects.get(idempotency_key=idempotency_key)
        ledger_post(
            idempotency_key=f"credit:{grant.pk}",
            kind="credit",
            description=f"Credit from {licensee_current().display_name}",
            metadata={"credit_grant_id": grant.pk, "granted_by": admin.pk},
            legs=_incoming_legs(user.pk, amount_minor, account_for(kind=AccountKind.PROMO)),
        )
    return grant


def topup_receipt_send(*, topup_id: int) -> None:
    receipt = selectors.topup_receipt(topup_id=topup_id)
    if receipt is None:
        return
    brand = brand_current()
    # Sent from a job: written in the licensee's default language.
    paid_at = receipt["paid_at"] or timezone.now()
    with translation.override(brand.default_language):
        lines = [
            _("Receipt number: %(number)s") % {"number": receipt["number"]},
            # In the licensee's time zone and its people's customs (kernel.formatting).
            _("Date: %(date)s") % {"date": brand.formats().datetime(paid_at, "medium")},
            _("Amount paid: %(amount)s") % {"amount": brand.money(receipt["amount_minor"])},
        ]
        if receipt["bonus_minor"]:
            lines.append(
                _("Bonus credit: %(amount)s") % {"amount": brand.money(receipt["bonus_minor"])}
            )
        lines.append(_("Payment reference: %(ref)s") % {"ref": receipt["payment_reference"]})
        branded_email_send(
            to=[receipt["email"]],
            subject=_("Your receipt from %(app)s") % {"app": brand.app_name},
            paragraphs=[
                _("Thank you for your top-up at %(app)s.") % {"app": brand.app_name},
                "\n".join(lines),
            ],
            brand=brand,
        )
