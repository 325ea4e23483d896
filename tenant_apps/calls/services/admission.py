"""Whether a caller may have a session with an advisor, checked alike for every way one
starts — a request now, a place in a busy advisor's line, a booking: the kind offered here
and by the advisor (at their rate for it), the advisor locked for the rest of the caller's
transaction, nothing owed, and credit for the licensee's minimum minutes at that rate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext as _

from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.advisors.selectors import session_kinds_enabled
from tenant_apps.calls.errors import CallNotFound, KindNotOffered, WalletOwes
from tenant_apps.pricing import charges
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets.errors import InsufficientFunds

# What the caller is doing, for the message when their credit is short.
Purpose = Literal["call", "wait", "book"]


@dataclass(frozen=True)
class SessionAdmission:
    advisor: Advisor  # locked until the caller's transaction ends
    rate_minor_per_minute: int
    minimum_minor: int  # the credit the session needs to start


def session_minimum_minor(rate_minor_per_minute: int) -> int:
    """The credit a session needs to start: the licensee's minimum minutes at this rate."""
    policy = policy_get()
    return charges.charge_minor(
        seconds=policy.minimum_minutes * 60,
        rate_minor_per_minute=rate_minor_per_minute,
        billing_mode=policy.billing_mode,
    )


def _short_of_credit(purpose: Purpose, name: str) -> str:
    minutes = policy_get().minimum_minutes
    if purpose == "wait":
        text = _("You need credit for at least %(minutes)d minutes to wait for %(name)s.")
    elif purpose == "book":
        text = _("You need credit for at least %(minutes)d minutes to book %(name)s.")
    else:
        text = _("You need credit for at least %(minutes)d minutes to call %(name)s.")
    return text % {"minutes": minutes, "name": name}


def session_admit(
    *,
    caller: User,
    advisor_id: int,
    kind: str,
    purpose: Purpose,
    advisor_check: Callable[[Advisor], None] | None = None,
) -> SessionAdmission:
    """Admit the caller to a session of `kind` with the advisor, in the caller's transaction
    (the advisor stays locked until it ends), or raise why not. `advisor_check` is the way's
    own rule for the advisor (free now, busy for a line, available at the booked time): it
    runs under the lock, before the caller's money is looked at."""
    if kind not in session_kinds_enabled():
        raise KindNotOffered(_("This kind of session is not offered here."), field="kind")
    advisor = Advisor.objects.select_for_update().filter(pk=advisor_id, suspended=False).first()
    if advisor is None:
        raise CallNotFound(_("There is no such advisor."), field="advisor_id")
    rate = advisor.rate_for(kind)
    if rate is None:
        raise KindNotOffered(
            _("%(name)s does not offer this kind of session.") % {"name": advisor.display_name},
            field="kind",
        )
    if advisor_check is not None:
        advisor_check(advisor)
    balance = wallet_selectors.wallet_balance_get(user_id=caller.pk)
    if balance.owed_minor > 0:
        raise WalletOwes(
            _("Your account has an open balance to settle before you can call."), field=None
        )
    minimum = session_minimum_minor(rate)
    if balance.available_minor < minimum:
        raise InsufficientFunds(_short_of_credit(purpose, advisor.display_name), field="advisor_id")
    return SessionAdmission(advisor=advisor, rate_minor_per_minute=rate, minimum_minor=minimum)
