from __future__ import annotations

from django.conf import settings

from branding.selectors import brand_current


def brand(request) -> dict:
    """`brand` (a BrandView) and the languages a user may switch between, for every page."""
    return {
        "brand": getattr(request, "brand", None) or brand_current(),
        "brand_languages": settings.LANGUAGES,
    }
