from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from identity import auth  # noqa: F401  (binds web sessions to their licensee)
