"""Sign-up, sign-in and the caller's own account, on every licensee host."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from identity import selectors, services, tokens
from identity.auth import ADMIN_ROLES, TokenAuth
from identity.models import ConsentRecord
from kernel.addresses import canonical_origin
from kernel.inputs import Line, Offset
from kernel.throttling import LicenseeRateThrottle

router = Router(tags=["auth"])


class RegisterIn(Schema):
    email: Line = Field(max_length=254)
    password: Line = Field(max_length=128)
    display_name: Line = Field(max_length=120)
    birth_date: date
    marketing_consent: bool = False


class TokenIn(Schema):
    email: Line = Field(max_length=254)
    password: Line = Field(max_length=128)


class RefreshIn(Schema):
    refresh: Line = Field(max_length=2000)


class TokenPairOut(Schema):
    access: str
    refresh: str


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    role: str
    birth_date: date | None
    email_verified: bool
    marketing_consent: bool
    date_joined: datetime


class RegisterOut(Schema):
    user: MeOut
    access: str
    refresh: str


class MePatchIn(Schema):
    display_name: Line | None = Field(default=None, max_length=120)
    old_password: Line | None = Field(default=None, max_length=128)
    new_password: Line | None = Field(default=None, max_length=128)


class PasswordResetIn(Schema):
    email: Line = Field(max_length=254)


class PasswordResetConfirmIn(Schema):
    uid: Line = Field(max_length=64)
    token: Line = Field(max_length=128)
    new_password: Line = Field(max_length=128)


class VerifyEmailIn(Schema):
    token: Line = Field(max_length=512)


class MessageOut(Schema):
    detail: str


def request_origin(request) -> str:
    """For links in e-mails: the licensee's canonical origin, never the request's Host."""
    return canonical_origin(request)


def _me(user) -> dict:
    consent = selectors.consent_current(user=user, purpose=ConsentRecord.Purpose.MARKETING)
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "birth_date": user.birth_date,
        "email_verified": user.email_verified_at is not None,
        "marketing_consent": bool(consent and consent.granted),
        "date_joined": user.date_joined,
    }


@router.post(
    "/auth/register",
    response={201: RegisterOut},
    auth=None,
    throttle=[LicenseeRateThrottle("register")],
)
def register(request, payload: RegisterIn):
    user = services.end_user_register(
        email=payload.email,
        password=payload.password,
        display_name=payload.display_name,
        birth_date=payload.birth_date,
        marketing_consent=payload.marketing_consent,
        origin=request_origin(request),
    )
    pair = tokens.token_pair_issue(user=user)
    return Status(201, {"user": _me(user), "access": pair.access, "refresh": pair.refresh})


@router.post(
    "/auth/token", response=TokenPairOut, auth=None, throttle=[LicenseeRateThrottle("token")]
)
def token_obtain(request, payload: TokenIn):
    user = services.credentials_authenticate(
        request=request, email=payload.email, password=payload.password
    )
    pair = tokens.token_pair_issue(user=user)
    return {"access": pair.access, "refresh": pair.refresh}


@router.post(
    "/auth/token/refresh",
    response=TokenPairOut,
    auth=None,
    throttle=[LicenseeRateThrottle("refresh")],
)
def token_refresh(request, payload: RefreshIn):
    pair = tokens.refresh_rotate(raw=payload.refresh)
    return {"access": pair.access, "refresh": pair.refresh}


@router.post(
    "/auth/logout", response={204: None}, auth=None, throttle=[LicenseeRateThrottle("refresh")]
)
def logout(request, payload: RefreshIn):
    tokens.refresh_revoke(raw=payload.refresh)
    return Status(204, None)


@router.post(
    "/auth/password-reset",
    response={202: MessageOut},
    auth=None,
    throttle=[LicenseeRateThrottle("password_reset")],
)
def password_reset(request, payload: PasswordResetIn):
    services.password_reset_request(
        email=payload.email,
        origin=request_origin(request),
    )
    return Status(
        202, {"detail": "If an account exists for this address, we have sent a reset link."}
    )


@router.post(
    "/auth/password-reset/confirm",
    response=MessageOut,
    auth=None,
    throttle=[LicenseeRateThrottle("password_reset")],
)
def password_reset_confirm(request, payload: PasswordResetConfirmIn):
    services.password_reset_confirm(
        uid=payload.uid, token=payload.token, new_password=payload.new_password
    )
    return {"detail": "Your password was changed. Please sign in again."}


@router.post(
    "/auth/verify-email",
    response=MessageOut,
    auth=None,
    throttle=[LicenseeRateThrottle("verify_email")],
)
def verify_email(request, payload: VerifyEmailIn):
    services.email_verify(token=payload.token)
    return {"detail": "Your e-mail address is confirmed."}


@router.post(
    "/auth/verify-email/resend",
    response={202: MessageOut},
    auth=TokenAuth(),
    throttle=[LicenseeRateThrottle("verify_email")],
)
def verify_email_resend(request):
    services.email_verification_send(user=request.auth, origin=request_origin(request))
    return Status(202, {"detail": "We have sent a new confirmation link."})


# GET and PATCH /me are mounted by compliance.licensee.subject_api, beside DELETE /me (erasure):
# django-ninja serves one path from one router only.
def me(request):
    return _me(request.auth)


def me_update(request, payload: MePatchIn):
    user = services.profile_update(
        user=request.auth,
        display_name=payload.display_name,
        old_password=payload.old_password,
        new_password=payload.new_password,
    )
    return _me(user)


# --- Licensee admins: the people of their own licensee ---------------------------------

admin_router = Router(tags=["admin"])


class UserRowOut(Schema):
    id: int
    email: str
    display_name: str
    role: str
    is_active: bool
    date_joined: datetime


class UserPageOut(Schema):
    count: int
    results: list[UserRowOut]


@admin_router.get("/admin/users", response=UserPageOut, auth=TokenAuth(roles=ADMIN_ROLES))
def admin_user_list(
    request,
    role: Literal["end_user", "advisor", "admin", "owner"] | None = None,
    q: Line | None = Query(default=None, max_length=100),
    limit: int = Query(default=50, ge=1, le=200),
    offset: Offset = 0,
):
    users = selectors.user_search(role=role, text=q)
    return {"count": users.count(), "results": list(users[offset : offset + limit])}


# --- The public host: Callrix staff and licensee account holders -------------------------

platform_router = Router(tags=["auth"])


@platform_router.post(
    "/auth/token", response=TokenPairOut, auth=None, throttle=[LicenseeRateThrottle("token")]
)
def platform_token_obtain(request, payload: TokenIn):
    return token_obtain(request, payload)


@platform_router.post(
    "/auth/token/refresh",
    response=TokenPairOut,
    auth=None,
    throttle=[LicenseeRateThrottle("refresh")],
)
def platform_token_refresh(request, payload: RefreshIn):
    return token_refresh(request, payload)


@platform_router.post(
    "/auth/logout", response={204: None}, auth=None, throttle=[LicenseeRateThrottle("refresh")]
)
def platform_logout(request, payload: RefreshIn):
    return logout(request, payload)


@platform_router.get("/me", response=MeOut, auth=TokenAuth())
def platform_me(request):
    return _me(request.auth)
