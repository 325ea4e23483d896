from kernel.errors import DomainError


class IdentityError(DomainError):
    pass


class InvalidField(IdentityError):
    status_code = 422
    code = "invalid_field"


class UnderAge(IdentityError):
    status_code = 422
    code = "under_age"


class EmailTaken(IdentityError):
    status_code = 409
    code = "email_taken"


class InvalidCredentials(IdentityError):
    status_code = 401
    code = "invalid_credentials"


class InvalidToken(IdentityError):
    status_code = 401
    code = "invalid_token"


class InvalidLink(IdentityError):
    status_code = 400
    code = "invalid_link"


class PermissionDenied(IdentityError):
    status_code = 403
    code = "permission_denied"


class LockedOut(IdentityError):
    status_code = 429
    code = "locked_out"
    retry_after: int | None = None  # seconds; the API sends it as Retry-After


class AccountClosed(IdentityError):
    """The account was closed (erased) while the request was on its way."""

    status_code = 403
    code = "account_closed"
