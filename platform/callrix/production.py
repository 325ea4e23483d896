"""What `CALLRIX_ENV=production` demands of the environment, and its host allow-list.

Production refuses to start rather than fall back to a development default: no embedded
PostgreSQL or Redis, no derived encryption key, no built-in signing key.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

REQUIRED_VARIABLES = (
    "SECRET_KEY",
    "CALLRIX_ENCRYPTION_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "BASE_DOMAIN",
    "CALLRIX_INTERNAL_TOKEN",
)
MIN_SECRET_KEY_LENGTH = 50
MIN_INTERNAL_TOKEN_LENGTH = 32


def require_environment(environ: Mapping[str, str]) -> None:
    """Raise ImproperlyConfigured naming every missing or unusable variable."""
    missing = [name for name in REQUIRED_VARIABLES if not environ.get(name, "").strip()]
    if missing:
        raise ImproperlyConfigured(
            f"CALLRIX_ENV=production needs {', '.join(missing)} in the environment "
            "(see deploy/.env.example); refusing to start."
        )
    problems = []
    secret = environ["SECRET_KEY"]
    if len(secret) < MIN_SECRET_KEY_LENGTH or secret.startswith(("dev-only", "django-insecure")):
        problems.append(
            f"SECRET_KEY must be a random value of at least {MIN_SECRET_KEY_LENGTH} characters"
        )
    if len(environ["CALLRIX_INTERNAL_TOKEN"]) < MIN_INTERNAL_TOKEN_LENGTH:
        problems.append(
            f"CALLRIX_INTERNAL_TOKEN must be at least {MIN_INTERNAL_TOKEN_LENGTH} characters"
        )
    if not _fernet_keys_valid(environ["CALLRIX_ENCRYPTION_KEY"]):
        problems.append(
            "CALLRIX_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)"
        )
    if problems:
        raise ImproperlyConfigured("; ".join(problems) + "; refusing to start.")


def _fernet_keys_valid(value: str) -> bool:
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in value.split(",") if key.strip()]
    try:
        for key in keys:
            Fernet(key.encode())
    except ValueError:
        return False
    return bool(keys)


class RoutedHost(str):
    """An ALLOWED_HOSTS entry that matches every host the tenant routing serves.

    Django compares each entry with the request's host (`pattern == host`); this one answers
    from `tenants.routing.resolve_host`, which is cached per process and in Redis, so adding
    or verifying a custom domain allows it within a second, without a query per request.
    """

    def __new__(cls) -> RoutedHost:
        return super().__new__(cls, "<hosts served by the tenant routing>")

    def lower(self) -> RoutedHost:  # Django lower-cases patterns before comparing
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str) or other == "*" or not other:
            return False
        from tenants.routing import resolve_host

        return resolve_host(other) is not None

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


def allowed_hosts() -> list[str]:
    return [RoutedHost()]
