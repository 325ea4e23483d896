"""Puts the host's brand on the request and picks the language: the user's own choice (the
language cookie set by Django's `set_language` view), else the licensee's default. On the
public host the browser's Accept-Language decides as usual."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from branding.selectors import BrandView, brand_for_licensee, platform_brand


class BrandedRequest(HttpRequest):
    """A request past `BrandLanguageMiddleware`: `brand` is its host's brand (Callrix's own on
    the public host). For annotations only; no request is one."""

    brand: BrandView


def _shipped(code: str | None) -> str | None:
    languages = {code for code, _ in settings.LANGUAGES}
    return code if code in languages else None


class BrandLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or getattr(tenant, "pk", None) is None:
            request.brand = platform_brand()
            language = translation.get_language_from_request(request)
        else:
            request.brand = brand_for_licensee(tenant)
            chosen = _shipped(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
            language = chosen or request.brand.default_language
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        # Times on the licensee's pages read in its zone (Django's own date filters too).
        timezone.activate(request.brand.formats().local(timezone.now()).tzinfo)
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
