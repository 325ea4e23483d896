from kernel.errors import DomainError


class AccountError(DomainError):
    pass


class InvalidAccountField(AccountError):
    status_code = 422
    code = "invalid_field"


class AccountEmailTaken(AccountError):
    status_code = 409
    code = "email_taken"


class ErasureRefused(AccountError):
    status_code = 409
    code = "erasure_refused"


class AccountNotFound(AccountError):
    status_code = 404
    code = "not_found"
