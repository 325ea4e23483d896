from kernel.errors import DomainError


class AdvisorError(DomainError):
    pass


class AdvisorNotFound(AdvisorError):
    status_code = 404
    code = "advisor_not_found"


class InvalidAdvisor(AdvisorError):
    status_code = 422
    code = "invalid_advisor"


class AdvisorEmailTaken(AdvisorError):
    status_code = 409
    code = "email_taken"


class PlanLimit(AdvisorError):
    """The licensee's plan includes no more advisors."""

    status_code = 409
    code = "plan_limit"
