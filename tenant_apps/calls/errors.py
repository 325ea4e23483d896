from kernel.errors import DomainError


class CallError(DomainError):
    pass


class LiveKitUnavailable(CallError):
    status_code = 502
    code = "livekit_unavailable"


class LiveKitWebhookInvalid(CallError):
    status_code = 400
    code = "bad_webhook"


class CallNotFound(CallError):
    status_code = 404
    code = "call_not_found"


class AdvisorUnavailable(CallError):
    status_code = 409
    code = "advisor_unavailable"


class CallerBusy(CallError):
    status_code = 409
    code = "caller_in_call"


class KindNotOffered(CallError):
    """The advisor does not offer this kind of session, or the platform runs none."""

    status_code = 422
    code = "kind_not_offered"


class AdvisorAvailable(CallError):
    """No need to wait: the advisor is free now."""

    status_code = 409
    code = "advisor_available"


class QueueConflict(CallError):
    status_code = 409
    code = "queue_conflict"


class NotInQueue(CallError):
    status_code = 404
    code = "not_in_queue"


class WalletOwes(CallError):
    status_code = 409
    code = "wallet_owes"


class SpendingCapReached(CallError):
    status_code = 422
    code = "spending_cap"


class CallStateConflict(CallError):
    status_code = 409
    code = "call_state"


class ChatMessageInvalid(CallError):
    status_code = 422
    code = "message_invalid"


class ReviewRefused(CallError):
    status_code = 422
    code = "review_refused"


class NotASandbox(CallError):
    """The offline call panel is only for the local LiveKit sandbox, which carries no media."""

    status_code = 409
    code = "not_sandbox"
