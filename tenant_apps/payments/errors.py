from kernel.errors import DomainError


class PaymentError(DomainError):
    pass


class StripeNotConnected(PaymentError):
    status_code = 409
    code = "stripe_not_connected"


class InvalidStripeKeys(PaymentError):
    status_code = 422
    code = "invalid_stripe_keys"


class StripeUnavailable(PaymentError):
    status_code = 502
    code = "stripe_unavailable"


class InvalidTopUp(PaymentError):
    status_code = 422
    code = "invalid_topup"


class TopUpNotFound(PaymentError):
    status_code = 404
    code = "topup_not_found"


class RefundRefused(PaymentError):
    status_code = 422
    code = "refund_refused"


class BadWebhook(PaymentError):
    status_code = 400
    code = "bad_webhook"


class NotASandbox(PaymentError):
    """The offline card form is only for licensees connected to the local Stripe sandbox."""

    status_code = 409
    code = "not_sandbox"
