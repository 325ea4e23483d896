from kernel.errors import DomainError


class BillingError(DomainError):
    pass


class InvalidSignupField(BillingError):
    status_code = 422
    code = "invalid_field"


class EmailTaken(BillingError):
    status_code = 409
    code = "email_taken"


class PlanUnavailable(BillingError):
    status_code = 422
    code = "plan_unavailable"


class BillingUnavailable(BillingError):
    """Stripe could not be reached or refused: nothing was kept, the client may retry."""

    status_code = 503
    code = "billing_unavailable"


class BadWebhook(BillingError):
    status_code = 400
    code = "bad_webhook"


class EventNotApplicable(BillingError):
    """The event names a subscription we do not hold (yet): its sign-up may still be
    committing, so the job retries."""

    code = "event_not_applicable"


class MeterEventRefused(BillingError):
    """Stripe refused a usage report for good (not an outage): retrying sends the same."""

    status_code = 502
    code = "meter_event_refused"
