"""`GET /api/v1/app-config`: what a licensee's mobile apps need to look and behave like the
licensee's product. Public by design (the apps read it before anyone signs in), so it carries
no secret: the Stripe key is the publishable one."""

from __future__ import annotations

from django.conf import settings
from ninja import Router, Schema

from branding.selectors import brand_for_licensee
from tenant_apps.notifications import selectors as notification_selectors
from tenant_apps.payments import selectors as payment_selectors

router = Router(tags=["branding"])  # the OpenAPI tag its clients know


class BrandOut(Schema):
    app_name: str
    short_name: str
    primary_color: str
    on_primary_color: str
    accent_color: str
    logo_url: str | None
    icon_url: str | None
    favicon_url: str | None
    support_email: str | None
    legal_entity_name: str | None
    legal_address: str | None
    privacy_policy_url: str | None
    terms_url: str | None
    default_language: str
    currency: str
    currency_display: str
    version: int


class FeaturesOut(Schema):
    payments: bool
    push_notifications: bool
    calls: bool


class AppConfigOut(Schema):
    licensee: str
    brand: BrandOut
    languages: list[str]
    features: FeaturesOut
    stripe_publishable_key: str | None
    livekit_url: str
    firebase_project_id: str | None
    manifest_url: str


@router.get("/app-config", response=AppConfigOut, auth=None)
def app_config(request):
    brand = brand_for_licensee(request.tenant)
    stripe = payment_selectors.stripe_connection_get()
    firebase = notification_selectors.firebase_project_get()

    def absolute(path: str) -> str | None:
        return request.build_absolute_uri(path) if path else None

    return {
        "licensee": request.tenant.slug,
        "brand": {
            "app_name": brand.app_name,
            "short_name": brand.short_name,
            "primary_color": brand.primary_color,
            "on_primary_color": "#ffffff",
            "accent_color": brand.accent_color,
            "logo_url": absolute(brand.logo_url),
            "icon_url": absolute(brand.icon_url),
            "favicon_url": absolute(brand.favicon_url),
            "support_email": brand.support_email or None,
            "legal_entity_name": brand.legal_entity_name or None,
            "legal_address": brand.legal_address or None,
            "privacy_policy_url": brand.privacy_policy_url or None,
            "terms_url": brand.terms_url or None,
            "default_language": brand.default_language,
            "currency": brand.currency,
            "currency_display": brand.currency_display,
            "version": brand.version,
        },
        "languages": [code for code, _ in settings.LANGUAGES],
        "features": {
            "payments": stripe is not None,
            "push_notifications": firebase is not None or bool(settings.FCM_DEFAULT_CREDENTIALS),
            "calls": bool(settings.LIVEKIT_URL),
        },
        "stripe_publishable_key": stripe.publishable_key if stripe else None,
        "livekit_url": settings.LIVEKIT_URL,
        "firebase_project_id": firebase.project_id if firebase else None,
        "manifest_url": absolute("/manifest.webmanifest"),
    }
