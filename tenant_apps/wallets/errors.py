from kernel.errors import DomainError


class WalletError(DomainError):
    pass


class InsufficientFunds(WalletError):
    status_code = 422
    code = "insufficient_funds"


class UnbalancedPosting(WalletError):
    """A bug, not a user error: a posting whose legs do not sum to zero."""

    status_code = 500
    code = "unbalanced_posting"


class InvalidAmount(WalletError):
    status_code = 422
    code = "invalid_amount"


class IdempotencyMismatch(WalletError):
    """The idempotency key was used before for a posting with other legs or amounts."""

    status_code = 409
    code = "idempotency_mismatch"
