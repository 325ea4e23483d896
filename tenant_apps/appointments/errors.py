from kernel.errors import DomainError


class AppointmentError(DomainError):
    pass


class AvailabilityInvalid(AppointmentError):
    status_code = 422
    code = "invalid_availability"


class SlotUnavailable(AppointmentError):
    """Outside the advisor's availability, in the past, or not a bookable length."""

    status_code = 422
    code = "slot_unavailable"


class SlotTaken(AppointmentError):
    status_code = 409
    code = "slot_taken"


class AppointmentNotFound(AppointmentError):
    status_code = 404
    code = "appointment_not_found"


class CancellationClosed(AppointmentError):
    status_code = 409
    code = "cancellation_closed"
