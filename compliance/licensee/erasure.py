"""Erasing an account at a licensee (GDPR Art. 17) — or a minor's, at once (Art. 8).

Accounts are never deleted: the money records the law makes the licensee keep for 7 years
(top-ups, ledger entries, call charges, refunds, disputes, payouts) point at the account, so
the account stays as an irreversible pseudonym — a random address at the reserved `.invalid`
domain, no name, no birth date, no password — and everything else about the person goes:
devices, push log, favourites, spending cap, review texts, the transcripts of their chat
sessions (both sides: the advisor's replies are about them too), their places in advisors'
queues, sign-in attempts. What is kept,
and why:
- ledger, top-ups, calls, credits, refunds, disputes, payouts: tax and accounting law, 7 years
  (privacy policy §7); they carry ids and amounts, never a name or an address;
- review ratings, without their text: other people's (the advisor's) average rests on them;
- the consent history: it shows that past marketing had consent (Art. 7(1)); under the
  pseudonym it identifies no one. A standing grant is withdrawn first;
- the request log: the licensee's proof that it answered (Art. 5(2)), under the pseudonym;
- an erased advisor's messages in other people's chat transcripts: those are the callers'
  records, now under the pseudonym and the erased advisor's placeholder name.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from branding.selectors import brand_current
from compliance.licensee import privacy_requests
from compliance.licensee.errors import (
    ErasureRefused,
    PasswordIncorrect,
    PrivacyRequestClosed,
    PrivacyRequestInvalid,
    SubjectNotFound,
)
from compliance.licensee.models import PrivacyRequest
from identity import tokens
from identity.models import ConsentRecord, User
from kernel.money import format_minor
from tenant_apps.advisors.models import Advisor, Favorite
from tenant_apps.calls.models import (
    OPEN_STATUSES,
    Call,
    ChatMessage,
    QueueEntry,
    Review,
    SpendingCap,
)
from tenant_apps.notifications.models import Device, PushLog
from tenant_apps.payments.models import TopUp
from tenant_apps.payouts.models import Payout
from tenant_apps.pricing.models import PricingPolicy
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.promotions.services import promotion_credit_reclaim
from tenant_apps.wallets.models import AccountKind, LedgerAccount
from tenant_apps.wallets.selectors import licensee_currency
from tenant_apps.wallets.services import Leg, account_for, accounts_lock, ledger_post

ERASED_DISPLAY_NAME = "Former user"
# A card payment started this recently may still succeed; older pending ones were abandoned.
PAYMENT_SETTLING = timedelta(hours=24)
_ERASABLE_ROLES = (User.Role.END_USER, User.Role.ADVISOR, User.Role.ADMIN)

Balance = PricingPolicy.ClosedAccountBalance


@dataclass(frozen=True)
class Credit:
    """What became of the wallet's credit when the account closed (minor units)."""

    policy: str  # the licensee's closed_account_balance ("refund" for a minor)
    total_minor: int = 0
    refund_due_minor: int = 0  # paid money left in the closed wallet, to be refunded
    forfeited_minor: int = 0  # paid money that lapsed, to forfeited balances
    promotional_minor: int = 0  # bonus and goodwill credit nobody paid for, to promotions


@dataclass(frozen=True)
class Erasure:
    user_id: int
    credit: Credit
    request: PrivacyRequest


def _pseudonym() -> str:
    # Random, never derived from the address or the id: nothing leads back to the person.
    return f"erased-{secrets.token_hex(10)}@invalid"


def _lock_accounts(user_id: int) -> dict[str, LedgerAccount]:
    """The person's ledger accounts, locked in id order like every posting locks them, so a
    call or payment racing the erasure waits for it."""
    kinds = [
        AccountKind.WALLET,
        AccountKind.HOLD,
        AccountKind.DEBT,
        AccountKind.DISPUTED,
        AccountKind.ADVISOR_EARNINGS,
    ]
    locked = accounts_lock(LedgerAccount.objects.filter(owner_id=user_id, kind__in=kinds))
    return {account.kind: account for account in locked}


def _refuse(detail: str, code: str) -> None:
    raise ErasureRefused(detail, code=code)


def _check(user: User, accounts: dict[str, LedgerAccount], advisor: Advisor | None, minor: bool):
    """Why the account cannot be erased now, if it cannot. A minor's account is erased
    whatever is owed (no debt is collected from a child); only a running call must end."""
    if user.erased_at is not None:
        _refuse("This account has already been erased.", "already_erased")
    if user.role not in _ERASABLE_ROLES:
        _refuse(
            "The owner's account holds the licence; transfer ownership before erasing it.",
            "role_not_erasable",
        )
    open_calls = Call.objects.filter(status__in=OPEN_STATUSES)
    if open_calls.filter(caller=user).exists() or (
        advisor is not None and open_calls.filter(advisor=advisor).exists()
    ):
        _refuse("A call is still open. Hang up, then try again.", "call_open")
    if minor:
        return

    def balance(kind: str) -> int:
        account = accounts.get(kind)
        return account.balance_minor if account else 0

    if balance(AccountKind.DEBT) < 0:
        _refuse(
            _("%(amount)s is still owed on this account. Settle it with a top-up first.")
            % {"amount": brand_current().money(-balance(AccountKind.DEBT))},
            "money_owed",
        )
    if balance(AccountKind.DISPUTED) > 0:
        _refuse(
            "A card payment is disputed; the account can be erased once it is settled.",
            "dispute_open",
        )
    if balance(AccountKind.HOLD) > 0:
        _refuse("Credit is held for a call being settled. Try again in a minute.", "money_held")
    settling = TopUp.objects.filter(
        user=user,
        status=TopUp.Status.PENDING,
        created_at__gte=timezone.now() - PAYMENT_SETTLING,
    )
    if settling.exists():
        _refuse(
            "A top-up payment is still in progress. Try again once it has completed or "
            "failed (at the latest in 24 hours).",
            "payment_pending",
        )
    if advisor is not None:
        if balance(AccountKind.ADVISOR_EARNINGS) > 0:
            _refuse(
                "You have earnings not yet paid out. Ask for a payout first; the account can "
                "be erased once it is paid.",
                "earnings_unpaid",
            )
        if Payout.objects.filter(advisor=advisor, status=Payout.Status.PENDING).exists():
            _refuse("A payout is on its way. Try again once it has arrived.", "payout_pending")


def _refundable_minor(user: User) -> int:
    """What the person paid by card and was not refunded: the most the licensee can refund
    against their top-ups (the admin refund is limited the same way)."""
    remaining = TopUp.objects.filter(user=user, status=TopUp.Status.SUCCEEDED).aggregate(
        total=Sum(F("amount_minor") - F("refunded_minor"))
    )["total"]
    return max(remaining or 0, 0)


def _settle_credit(user: User, wallet: LedgerAccount | None, policy: str) -> Credit:
    if wallet is None or wallet.balance_minor <= 0:
        return Credit(policy=policy)
    balance = wallet.balance_minor
    paid = min(balance, _refundable_minor(user))
    promotional = balance - paid
    legs = []
    # Credit never paid for is not money to give back: it returns to the account it came
    # from — promotion credit for what the person's codes gave (as far as no refund took it
    # back yet), the promotions account for package bonuses and goodwill.
    from_codes = promotion_credit_reclaim(user_id=user.pk, available_minor=promotional)
    if from_codes:
        legs.append(Leg(account_for(kind=AccountKind.PROMOTION_CREDIT), from_codes))
    if promotional - from_codes:
        legs.append(Leg(account_for(kind=AccountKind.PROMO), promotional - from_codes))
    forfeited = paid if policy == Balance.FORFEIT else 0
    if forfeited:
        legs.append(Leg(account_for(kind=AccountKind.FORFEITED), forfeited))
    if legs:
        legs.append(Leg(wallet, -(promotional + forfeited)))
        ledger_post(
            idempotency_key=f"erasure:{user.pk}:credit",
            kind="account_closed",
            description="Credit settled when the account was closed",
            metadata={"user_id": user.pk, "policy": policy, "refund_due": paid - forfeited},
            legs=legs,
        )
    # A refund due stays the former user's credit, in their closed wallet, until the
    # licensee refunds it against their top-ups (the admin refund books it out of there).
    return Credit(
        policy=policy,
        total_minor=balance,
        refund_due_minor=paid - forfeited,
        forfeited_minor=forfeited,
        promotional_minor=promotional,
    )


def _erase_personal_data(user: User, advisor: Advisor | None) -> str:
    old_email = user.email
    pseudonym = _pseudonym()
    latest = ConsentRecord.objects.filter(user=user).order_by("-recorded_at", "-id").first()
    if latest is not None and latest.granted:
        ConsentRecord.objects.create(
            user=user, purpose=latest.purpose, granted=False, source="erasure"
        )
    Device.objects.filter(user=user).delete()
    PushLog.objects.filter(user=user).delete()
    Favorite.objects.filter(user=user).delete()
    SpendingCap.objects.filter(user=user).delete()
    Review.objects.filter(caller=user).exclude(comment="").update(comment="")
    ChatMessage.objects.filter(call__caller=user).delete()
    QueueEntry.objects.filter(caller=user).delete()  # places in line, past and present
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username=old_email).delete()
    TopUp.objects.filter(user=user).exclude(client_secret="").update(client_secret="")
    TopUp.objects.filter(user=user, status=TopUp.Status.PENDING).update(
        status=TopUp.Status.CANCELED, failure_message="account closed"
    )
    if advisor is not None:
        Favorite.objects.filter(advisor=advisor).delete()
        advisor.display_name = ERASED_DISPLAY_NAME
        advisor.headline = ""
        advisor.bio = ""
        advisor.categories = []
        advisor.languages = []
        advisor.photo_url = ""
        advisor.status = Advisor.Status.OFFLINE
        advisor.suspended = True
        advisor.suspended_reason = "account erased"
        advisor.save()
    PrivacyRequest.objects.filter(subject=user).update(subject_email=pseudonym)
    user.email = pseudonym
    user.display_name = ERASED_DISPLAY_NAME
    user.birth_date = None
    user.email_verified_at = None
    user.last_login = None
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.processing_restricted = False
    user.objects_to_marketing = False
    user.objects_to_analytics = False
    user.erased_at = timezone.now()
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    tokens.refresh_revoke_all(user_id=user.pk)
    return pseudonym


def account_erase(
    *,
    user_id: int,
    channel: str,
    logged_by_id: int | None = None,
    request_id: int | None = None,
    minor: bool = False,
) -> Erasure:
    """Erase one account of the current licensee, in one transaction: refused (nothing
    changed) while a call is open or money is owed; otherwise the wallet's credit is settled
    by the licensee's policy (always refunded for a minor), the personal data erased, the
    account closed and the erasure logged — completing `request_id` when one is given."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or user.role not in (*_ERASABLE_ROLES, User.Role.OWNER):
            raise SubjectNotFound("There is no such user.", field="user_id")
        request = None
        if request_id is not None:
            request = privacy_requests.privacy_request_for_update(request_id=request_id)
            if request.completed_at is not None:
                raise PrivacyRequestClosed("This request is already completed.", field="request_id")
        accounts = _lock_accounts(user.pk)
        advisor = Advisor.objects.select_for_update().filter(user=user).first()
        _check(user, accounts, advisor, minor)
        policy = Balance.REFUND if minor else policy_get().closed_account_balance
        credit = _settle_credit(user, accounts.get(AccountKind.WALLET), policy)
        _erase_personal_data(user, advisor)
        notes = _summary(user.pk, credit, minor)
        if request is None:
            request = privacy_requests.privacy_request_log(
                type=PrivacyRequest.Type.ERASURE,
                channel=channel,
                subject=user,
                notes=notes,
                logged_by_id=logged_by_id,
                outcome=PrivacyRequest.Outcome.FULFILLED,
            )
        else:
            request.subject = user
            request.subject_email = user.email
            request.save(update_fields=["subject", "subject_email"])
            privacy_requests.privacy_request_close(
                request=request, outcome=PrivacyRequest.Outcome.FULFILLED, notes=notes
            )
    return Erasure(user_id=user.pk, credit=credit, request=request)


def _summary(user_id: int, credit: Credit, minor: bool) -> str:
    reason = "The account belonged to a minor. " if minor else ""
    text = (
        f"{reason}Account #{user_id} closed and its personal data erased; its financial "
        "records are kept under a pseudonym for 7 years."
    )
    currency = licensee_currency()
    if credit.refund_due_minor:
        text += (
            f" To refund: {format_minor(credit.refund_due_minor, currency)}, kept in the closed "
            "account's wallet until refunded against its top-ups."
        )
    if credit.forfeited_minor:
        text += f" Forfeited: {format_minor(credit.forfeited_minor, currency)}."
    if credit.promotional_minor:
        text += (
            f" Bonus or goodwill credit returned to promotions: "
            f"{format_minor(credit.promotional_minor, currency)}."
        )
    return text


def account_erase_self(*, user: User, password: str) -> Erasure:
    """The signed-in person erases their own account, confirming with their password."""
    if not password:
        raise PasswordIncorrect("Enter your password to erase your account.", field="password")
    if not user.check_password(password):
        raise PasswordIncorrect("The password is wrong.", field="password")
    return account_erase(user_id=user.pk, channel=PrivacyRequest.Channel.SELF_SERVICE)


def account_flag_minor(*, user_id: int, flagged_by_id: int | None, channel: str) -> Erasure:
    """The account is a minor's (the platforms are for adults): erase it at once."""
    return account_erase(user_id=user_id, channel=channel, logged_by_id=flagged_by_id, minor=True)


def licensee_account_flag_minor(*, licensee, user_id: int) -> Erasure:
    """For Callrix staff (the public admin): erase a minor's account at one licensee, in that
    licensee's schema, logged in its request log as done by staff."""
    with tenant_context(licensee):
        return account_flag_minor(
            user_id=user_id, flagged_by_id=None, channel=PrivacyRequest.Channel.STAFF
        )


def privacy_request_erase(*, request_id: int, admin: User) -> Erasure:
    """Act on an erasure request received by e-mail: erase its subject and complete it."""
    request = privacy_requests.privacy_request_get(request_id=request_id)
    if request.type != PrivacyRequest.Type.ERASURE:
        raise PrivacyRequestInvalid("This is not an erasure request.", field="request_id")
    if request.subject_id is None:
        raise SubjectNotFound(
            "Nobody here has the address of this request; complete it as refused or fulfilled "
            "with a note instead.",
            field="request_id",
        )
    return account_erase(
        user_id=request.subject_id,
        channel=request.channel,
        logged_by_id=admin.pk,
        request_id=request.pk,
    )
