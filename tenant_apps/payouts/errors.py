from kernel.errors import DomainError


class PayoutError(DomainError):
    pass


class InvalidPayoutPolicy(PayoutError):
    status_code = 422
    code = "invalid_payout_policy"


class PayoutRefused(PayoutError):
    """The advisor asked for a payout that cannot be made (amount, minimum, nothing due)."""

    status_code = 422
    code = "payout_refused"


class PayoutsNotEnabled(PayoutError):
    status_code = 409
    code = "payouts_not_enabled"


class PayoutsHeld(PayoutError):
    status_code = 409
    code = "payouts_held"


class InvalidHold(PayoutError):
    status_code = 422
    code = "invalid_hold"


class PayoutsPaused(PayoutError):
    """The licensee's payouts are paused on Callrix's side (an unresolved ledger breach)."""

    status_code = 409
    code = "payouts_paused"
