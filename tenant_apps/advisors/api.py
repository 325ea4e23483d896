"""Advisors: the public directory, end users' favorites, admins' management and the
advisor's own profile."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import Annotated, Literal

from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from identity.auth import ADMIN_ROLES, ADVISOR_ROLES, END_USER_ROLES, TokenAuth, request_user
from kernel.addresses import canonical_origin
from kernel.inputs import INT32_MAX, Id, Line, Offset, Text
from kernel.throttling import LicenseeRateThrottle
from tenant_apps.advisors import selectors, services
from tenant_apps.advisors.errors import AdvisorNotFound

SessionKindName = Literal["voice", "video", "chat"]
RateMinor = Annotated[int, Field(gt=0, le=1_000_000)]

router = Router(tags=["advisors"])
admin_router = Router(tags=["admin"])
advisor_router = Router(tags=["advisor"])


class AdvisorOut(Schema):
    id: int
    display_name: str
    headline: str
    bio: str
    categories: list[str]
    languages: list[str]
    photo_url: str
    rate: int
    kinds: list[str]
    rates: dict[str, int]
    currency: str
    status: str
    rating: float | None
    rating_count: int
    favorite: bool = False


class AdvisorPageOut(Schema):
    count: int
    results: list[AdvisorOut]


class AdvisorAdminOut(AdvisorOut):
    email: str
    suspended: bool
    suspended_reason: str
    created_at: datetime


class ProfileIn(Schema):
    display_name: Line | None = Field(default=None, max_length=120)
    headline: Line | None = Field(default=None, max_length=200)
    bio: Text | None = Field(default=None, max_length=5_000)
    categories: list[Line] | None = Field(default=None, max_length=20)
    languages: list[Line] | None = Field(default=None, max_length=20)
    photo_url: Line | None = Field(default=None, max_length=500)
    rate: int | None = Field(default=None, gt=0, le=1_000_000)
    # Every kind of session offered, each with its per-minute rate; a kind left out is
    # no longer offered.
    rates: dict[SessionKindName, RateMinor] | None = Field(default=None, max_length=3)


class AdvisorSelfIn(ProfileIn):
    status: Literal["online", "offline"] | None = None


class AdvisorCreateIn(Schema):
    email: Line = Field(max_length=254)
    display_name: Line = Field(max_length=120)
    rate: int = Field(gt=0, le=1_000_000)
    password: Line | None = Field(default=None, max_length=128)
    headline: Line = Field(default="", max_length=200)
    bio: Text = Field(default="", max_length=5_000)
    categories: list[Line] = Field(default_factory=list, max_length=20)
    languages: list[Line] = Field(default_factory=list, max_length=20)


class SuspendIn(Schema):
    reason: Text = Field(max_length=300)


def _currency(request) -> str:
    return request.tenant.currency


def _out(
    advisor, request, favorites: Set[int] = frozenset(), enabled: frozenset[str] | None = None
) -> dict:
    rates = selectors.advisor_rates_offered(
        advisor, enabled if enabled is not None else selectors.session_kinds_enabled()
    )
    return {
        "id": advisor.pk,
        "display_name": advisor.display_name,
        "headline": advisor.headline,
        "bio": advisor.bio,
        "categories": advisor.categories,
        "languages": advisor.languages,
        "photo_url": advisor.photo_url,
        "rate": advisor.rate_minor_per_minute,
        "kinds": list(rates),
        "rates": rates,
        "currency": _currency(request),
        "status": advisor.status,
        "rating": advisor.rating,
        "rating_count": advisor.rating_count,
        "favorite": advisor.pk in favorites,
    }


def _admin_out(advisor, request) -> dict:
    return _out(advisor, request) | {
        "email": advisor.user.email,
        "suspended": advisor.suspended,
        "suspended_reason": advisor.suspended_reason,
        "created_at": advisor.created_at,
    }


def _origin(request) -> str:
    return canonical_origin(request)  # never the request's Host header


def _favorites_of(request) -> set[int]:
    """Favorites of a signed-in end user (token or web session), if any."""
    user = request_user(request)
    return selectors.favorite_advisor_ids(user_id=user.pk) if user else set()


@router.get("/advisors", response=AdvisorPageOut, auth=None)
def advisor_list(
    request,
    category: Line | None = Query(default=None, max_length=40),
    status: Literal["online", "busy", "offline"] | None = None,
    language: Line | None = Query(default=None, max_length=8),
    sort: Literal["rating", "price", "-price", "name"] = "rating",
    kind: SessionKindName | None = None,
    limit: int = Query(default=50, ge=1, le=100),
    offset: Offset = 0,
):
    advisors = selectors.advisor_list_public(
        category=category, status=status, language=language, sort=sort, kind=kind
    )
    favorites = _favorites_of(request)
    enabled = selectors.session_kinds_enabled()
    return {
        "count": advisors.count(),
        "results": [
            _out(a, request, favorites, enabled) for a in advisors[offset : offset + limit]
        ],
    }


@router.get("/advisors/{advisor_id}", response=AdvisorOut, auth=None)
def advisor_get(request, advisor_id: Id):
    advisor = selectors.advisor_get_public(advisor_id=advisor_id)
    if advisor is None:
        raise AdvisorNotFound("There is no such advisor.", field="advisor_id")
    return _out(advisor, request, _favorites_of(request))


@router.put(
    "/advisors/{advisor_id}/favorite", response={204: None}, auth=TokenAuth(roles=END_USER_ROLES)
)
def favorite_add(request, advisor_id: Id):
    services.favorite_add(user=request.auth, advisor_id=advisor_id)
    return Status(204, None)


@router.delete(
    "/advisors/{advisor_id}/favorite", response={204: None}, auth=TokenAuth(roles=END_USER_ROLES)
)
def favorite_remove(request, advisor_id: Id):
    services.favorite_remove(user=request.auth, advisor_id=advisor_id)
    return Status(204, None)


@router.get("/me/favorites", response=list[AdvisorOut], auth=TokenAuth(roles=END_USER_ROLES))
def favorites(request):
    ids = selectors.favorite_advisor_ids(user_id=request.auth.pk)
    advisors = selectors.advisor_list_public().filter(pk__in=ids)
    enabled = selectors.session_kinds_enabled()
    return [_out(a, request, ids, enabled) for a in advisors]


# --- Licensee admins -----------------------------------------------------------------------

ADMIN = TokenAuth(roles=ADMIN_ROLES)


@admin_router.post("/admin/advisors", response={201: AdvisorAdminOut}, auth=ADMIN)
def admin_advisor_create(request, payload: AdvisorCreateIn):
    advisor = services.advisor_create(
        email=payload.email,
        display_name=payload.display_name,
        rate_minor=payload.rate,
        password=payload.password,
        admin=request.auth,
        origin=_origin(request),
        headline=payload.headline,
        bio=payload.bio,
        categories=payload.categories,
        languages=payload.languages,
    )
    return Status(201, _admin_out(advisor, request))


@admin_router.get("/admin/advisors", response=list[AdvisorAdminOut], auth=ADMIN)
def admin_advisor_list(request, q: Line | None = Query(default=None, max_length=100)):
    return [_admin_out(a, request) for a in selectors.advisor_list_admin(text=q)]


@admin_router.patch("/admin/advisors/{advisor_id}", response=AdvisorAdminOut, auth=ADMIN)
def admin_advisor_update(request, advisor_id: Id, payload: ProfileIn):
    changes = payload.dict(exclude_none=True)
    advisor = services.advisor_update(
        advisor_id=advisor_id,
        rate_minor=changes.pop("rate", None),
        rates=changes.pop("rates", None),
        **changes,
    )
    return _admin_out(advisor, request)


@admin_router.post("/admin/advisors/{advisor_id}/suspend", response=AdvisorAdminOut, auth=ADMIN)
def admin_advisor_suspend(request, advisor_id: Id, payload: SuspendIn):
    return _admin_out(
        services.advisor_suspend(advisor_id=advisor_id, reason=payload.reason), request
    )


@admin_router.post("/admin/advisors/{advisor_id}/reinstate", response=AdvisorAdminOut, auth=ADMIN)
def admin_advisor_reinstate(request, advisor_id: Id):
    return _admin_out(services.advisor_reinstate(advisor_id=advisor_id), request)


# --- The advisor themself ------------------------------------------------------------------


def _own(request):
    advisor = selectors.advisor_for_user(user_id=request.auth.pk)
    if advisor is None:
        raise AdvisorNotFound("Your advisor profile does not exist.", field=None)
    return advisor


@advisor_router.get("/advisor/me", response=AdvisorAdminOut, auth=TokenAuth(roles=ADVISOR_ROLES))
def advisor_me(request):
    return _admin_out(_own(request), request)


@advisor_router.patch("/advisor/me", response=AdvisorAdminOut, auth=TokenAuth(roles=ADVISOR_ROLES))
def advisor_me_update(request, payload: AdvisorSelfIn):
    changes = payload.dict(exclude_none=True)
    advisor = services.advisor_self_update(
        advisor_id=_own(request).pk,
        status=changes.pop("status", None),
        rate_minor=changes.pop("rate", None),
        rates=changes.pop("rates", None),
        **changes,
    )
    return _admin_out(advisor, request)


# --- Applications and commission -------------------------------------------------------------


class AdvisorApplicationIn(Schema):
    email: Line = Field(max_length=254)
    display_name: Line = Field(max_length=120)
    rate: int = Field(gt=0, le=1_000_000)
    headline: Line = Field(default="", max_length=200)
    bio: Text = Field(default="", max_length=5_000)
    categories: list[Line] = Field(default_factory=list, max_length=20)
    languages: list[Line] = Field(default_factory=list, max_length=20)


class AdvisorApplicationOut(Schema):
    id: int
    status: str


@router.post(
    "/advisor-applications",
    response={201: AdvisorApplicationOut},
    auth=None,
    throttle=[LicenseeRateThrottle("register")],
)
def advisor_application_submit(request, payload: AdvisorApplicationIn):
    """Apply to advise on this platform; the licensee's admins review the application."""
    application = services.application_submit(
        email=payload.email,
        display_name=payload.display_name,
        rate_minor=payload.rate,
        headline=payload.headline,
        bio=payload.bio,
        categories=payload.categories,
        languages=payload.languages,
    )
    return Status(201, {"id": application.pk, "status": application.status})


TierMinutes = Annotated[int, Field(ge=0, le=INT32_MAX)]
TierShare = Annotated[int, Field(ge=0, le=10_000)]


class CommissionIn(Schema):
    fixed_bps: int | None = Field(default=None, ge=0, le=10_000)
    # [[from_minutes, share_bps], ...]: the highest tier this month's talk minutes reached
    tiers: list[tuple[TierMinutes, TierShare]] = Field(default_factory=list, max_length=20)


class CommissionOut(Schema):
    fixed_bps: int | None
    tiers: list[tuple[int, int]]


@admin_router.put("/admin/advisors/{advisor_id}/commission", response=CommissionOut, auth=ADMIN)
def admin_commission_set(request, advisor_id: Id, payload: CommissionIn):
    override = services.commission_set(
        advisor_id=advisor_id,
        fixed_bps=payload.fixed_bps,
        tiers=payload.tiers,
        admin=request.auth,
    )
    if override is None:
        return {"fixed_bps": None, "tiers": []}
    return {"fixed_bps": override.fixed_bps, "tiers": [tuple(t) for t in override.tiers]}
