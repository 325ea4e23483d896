"""JWT pairs bound to the schema they were issued in.

Stock django-tenants with JWT accepts a token on every tenant (django-tenants issue #983): the
signature is the same everywhere. Every token we issue carries the schema it belongs to, and
no token is accepted unless that claim names the schema of the host it is presented to — the
public host included.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from ninja_jwt.exceptions import TokenError
from ninja_jwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from ninja_jwt.tokens import AccessToken, RefreshToken

from identity.errors import InvalidToken
from identity.models import User
from kernel.tenant_connection import connection

SCHEMA_CLAIM = "schema"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def token_pair_issue(*, user: User) -> TokenPair:
    # for_user also records the token as outstanding (for blacklisting). ninja-jwt types its
    # classmethod's `cls` as an instance, so mypy sees a class where a token comes back.
    refresh: RefreshToken = RefreshToken.for_user(user)  # type: ignore[misc, assignment]
    refresh[SCHEMA_CLAIM] = connection.schema_name
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _bound_here(token) -> bool:
    return token.get(SCHEMA_CLAIM) == connection.schema_name


def access_token_user(raw: str) -> User | None:
    """The active user an access token names, if it is valid and was issued on this host."""
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    if not _bound_here(token):
        return None
    return User.objects.filter(pk=token.get("user_id"), is_active=True).first()


class _SignedRefreshToken(RefreshToken):
    """Checks signature, expiry and type only; spent tokens are handled by refresh_rotate,
    which must see a reuse to revoke the family."""

    def check_blacklist(self) -> None:
        return None


def _refresh_token(raw: str) -> RefreshToken:
    try:
        token = _SignedRefreshToken(raw)
    except TokenError:
        raise InvalidToken("The refresh token is invalid or expired.", field="refresh") from None
    if not _bound_here(token):
        raise InvalidToken("The refresh token is invalid or expired.", field="refresh")
    return token


def refresh_rotate(*, raw: str) -> TokenPair:
    """Spend a refresh token for a new pair. A token is good once: presenting a spent one
    again is treated as theft and revokes every refresh token of its user."""
    token = _refresh_token(raw)
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=token["jti"]).first()
        if outstanding is None:
            raise InvalidToken("The refresh token is invalid or expired.", field="refresh")
        reused = BlacklistedToken.objects.filter(token=outstanding).exists()
        if not reused:
            BlacklistedToken.objects.create(token=outstanding)
            user = User.objects.filter(pk=token.get("user_id"), is_active=True).first()
            if user is None:
                raise InvalidToken("The account is no longer active.", field="refresh")
            return token_pair_issue(user=user)
    # Outside the block above: the revocation must stand although the request fails.
    if outstanding.user_id is not None:  # None only once its user row is gone
        refresh_revoke_all(user_id=outstanding.user_id)
    raise InvalidToken("The refresh token was already used.", field="refresh")


def refresh_revoke(*, raw: str) -> None:
    """Log out: spend the refresh token (already spent is fine)."""
    token = _refresh_token(raw)
    outstanding = OutstandingToken.objects.filter(jti=token["jti"]).first()
    if outstanding is not None:
        BlacklistedToken.objects.get_or_create(token=outstanding)


def refresh_revoke_all(*, user_id: int) -> None:
    for outstanding in OutstandingToken.objects.filter(user_id=user_id).exclude(
        blacklistedtoken__isnull=False
    ):
        BlacklistedToken.objects.get_or_create(token=outstanding)


class SchemaBoundTokenGenerator(PasswordResetTokenGenerator):
    """Password-set/reset links that only work on the host (schema) that issued them."""

    key_salt = "callrix.identity.SchemaBoundTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{connection.schema_name}:{super()._make_hash_value(user, timestamp)}"


password_token_generator = SchemaBoundTokenGenerator()
