from kernel.errors import DomainError


class PolicyError(DomainError):
    pass


class InvalidPolicyField(PolicyError):
    status_code = 422
    code = "invalid_field"


class EffectiveTooSoon(PolicyError):
    status_code = 422
    code = "effective_too_soon"


class PolicyAlreadyPublished(PolicyError):
    status_code = 409
    code = "policy_already_published"
