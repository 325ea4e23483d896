"""Brand files on a licensee's own host: the theme sheet, the PWA manifest and the images.
They are served from the host's licensee only, so no URL can reach another licensee's brand."""

from __future__ import annotations

import json
from typing import TypeVar

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from branding.images import monogram_png
from branding.middleware import BrandedRequest
from branding.selectors import brand_row_get
from branding.theme import manifest, theme_css

# Asset URLs carry the brand version, so a changed brand is a new URL: cache for a day.
_VERSIONED_MAX_AGE = 86_400
_IMAGE_FIELDS = {
    "logo.png": "logo",
    "icon-512.png": "icon",
    "icon-192.png": "icon_small",
    "favicon.png": "favicon",
}


ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


def _cache_headers(response: ResponseT, request: HttpRequest) -> ResponseT:
    if request.GET.get("v"):
        response["Cache-Control"] = f"public, max-age={_VERSIONED_MAX_AGE}"
    else:
        response["Cache-Control"] = "no-cache"
    return response


@require_GET
def theme(request: BrandedRequest) -> HttpResponse:
    response = HttpResponse(theme_css(request.brand), content_type="text/css; charset=utf-8")
    return _cache_headers(response, request)


@require_GET
def web_manifest(request: BrandedRequest) -> HttpResponse:
    body = json.dumps(manifest(request.brand), ensure_ascii=False)
    response = HttpResponse(body, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def brand_image(request: BrandedRequest, name: str) -> HttpResponseBase:
    field = _IMAGE_FIELDS.get(name)
    # The host's brand is its licensee's (these URLs are served on licensees' hosts only).
    licensee_id = request.brand.licensee_id
    row = brand_row_get(licensee_id=licensee_id) if field and licensee_id is not None else None
    stored = getattr(row, field) if row is not None and field else None
    if not stored:
        raise Http404("This brand has no such image.")
    response = FileResponse(default_storage.open(stored.name, "rb"), content_type="image/png")
    return _cache_headers(response, request)


@require_GET
def favicon(request: BrandedRequest) -> HttpResponseBase:
    """The brand's favicon, else its icon, else its initial on its colour: browsers ask for
    /favicon.ico on every site, and a 404 there would be noise in every page's console."""
    brand = request.brand
    if brand.has_favicon or brand.has_icon:
        return brand_image(request, "favicon.png" if brand.has_favicon else "icon-192.png")
    body = monogram_png(text=brand.app_name, background=brand.primary_color)
    return _cache_headers(HttpResponse(body, content_type="image/png"), request)
