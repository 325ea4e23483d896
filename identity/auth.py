"""Authentication and role checks for the django-ninja APIs, reusable per endpoint:
`auth=TokenAuth()` for any signed-in user, `auth=TokenAuth(roles=ADMIN_ROLES)` for admins.

Two ways in, both bound to the licensee they were issued on:
- `Authorization: Bearer <JWT>` (mobile apps, scripts): the token carries its schema.
- The browser session of the licensee's own web pages, same-origin only: Django's CSRF check
  (the `X-CSRFToken` header) on every unsafe method, and the session must have been opened
  on this schema (sessions live in each licensee's schema; the marker makes it explicit).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security import HttpBearer

from identity.errors import PermissionDenied
from identity.models import User
from identity.tokens import access_token_user
from kernel.tenant_connection import connection

ADMIN_ROLES = frozenset({User.Role.ADMIN, User.Role.OWNER})
ADVISOR_ROLES = frozenset({User.Role.ADVISOR})
END_USER_ROLES = frozenset({User.Role.END_USER})

SESSION_SCHEMA_KEY = "callrix_schema"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@receiver(user_logged_in)
def _bind_session_to_schema(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_SCHEMA_KEY] = connection.schema_name


class AuthenticatedRequest(HttpRequest):
    """What an endpoint behind `TokenAuth` is handed: django-ninja puts the user that
    `TokenAuth` admitted on `request.auth`. For annotations only; no request is one."""

    auth: User


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"


def _csrf_passes(request) -> bool:
    def no_view(*args, **kwargs):  # CsrfViewMiddleware wants a view; it is never called
        return None

    check = CsrfViewMiddleware(no_view)
    check.process_request(request)
    return check.process_view(request, no_view, (), {}) is None


def session_user(request, *, csrf: bool = True) -> User | None:
    """The user of this request's browser session, if it was opened on this licensee (and,
    for unsafe methods, the request passes the CSRF check)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if request.session.get(SESSION_SCHEMA_KEY) != connection.schema_name:
        return None
    if csrf and request.method not in SAFE_METHODS and not _csrf_passes(request):
        raise CsrfFailed("The page's security token is missing or stale; reload the page.")
    return user


def request_user(request) -> User | None:
    """Who is signed in on a read-only request, by token or session (None if nobody)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return access_token_user(header.removeprefix("Bearer ").strip())
    return session_user(request, csrf=False)


class TokenAuth(HttpBearer):
    def __init__(self, roles: Iterable[str] | None = None) -> None:
        super().__init__()
        self.roles = frozenset(roles or ())

    def __call__(self, request):
        if request.headers.get(self.header):
            return super().__call__(request)
        user = session_user(request)
        return self._admit(request, user) if user is not None else None

    def authenticate(self, request, token: str) -> User | None:
        user = access_token_user(token)
        if user is None:
            return None  # -> 401
        return self._admit(request, user)

    def _admit(self, request, user: User) -> User:
        if self.roles and user.role not in self.roles:
            raise PermissionDenied("Your account may not do this.")
        request.user = user
        return user
