"""Authentication and role checks for the django-ninja APIs, reusable per endpoint:
`auth=TokenAuth()` for any signed-in user, `auth=TokenAuth(roles=ADMIN_ROLES)` for admins."""

from __future__ import annotations

from collections.abc import Iterable

from ninja.security import HttpBearer

from identity.errors import PermissionDenied
from identity.models import User
from identity.tokens import access_token_user

ADMIN_ROLES = frozenset({User.Role.ADMIN, User.Role.OWNER})
ADVISOR_ROLES = frozenset({User.Role.ADVISOR})
END_USER_ROLES = frozenset({User.Role.END_USER})


class TokenAuth(HttpBearer):
    def __init__(self, roles: Iterable[str] | None = None) -> None:
        super().__init__()
        self.roles = frozenset(roles or ())

    def authenticate(self, request, token: str) -> User | None:
        user = access_token_user(token)
        if user is None:
            return None  # -> 401
        if self.roles and user.role not in self.roles:
            raise PermissionDenied("Your account may not do this.")
        request.user = user
        return user
