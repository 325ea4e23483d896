from kernel.errors import DomainError


class NotificationError(DomainError):
    pass


class InvalidFirebaseCredentials(NotificationError):
    status_code = 422
    code = "invalid_firebase_credentials"

    def __init__(self, detail: str, *, field: str | None = "credentials", code: str | None = None):
        super().__init__(detail, field=field, code=code)


class InvalidDevice(NotificationError):
    status_code = 422
    code = "invalid_device"
