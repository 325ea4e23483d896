from kernel.errors import DomainError


class LicenseeError(DomainError):
    pass


class InvalidSlug(LicenseeError):
    status_code = 422
    code = "invalid_slug"


class SlugTaken(LicenseeError):
    status_code = 409
    code = "slug_taken"


class InvalidLicenseeField(LicenseeError):
    status_code = 422
    code = "invalid_field"


class LicenseeNotFound(LicenseeError):
    status_code = 404
    code = "licensee_not_found"


class InvalidDomain(LicenseeError):
    status_code = 422
    code = "invalid_domain"


class DomainTaken(LicenseeError):
    status_code = 409
    code = "domain_taken"


class DomainNotFound(LicenseeError):
    status_code = 404
    code = "domain_not_found"


class DomainNotVerified(LicenseeError):
    status_code = 422
    code = "domain_not_verified"
