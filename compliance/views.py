"""The processing register as a page on the public host, from the same register as the API."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from compliance.analytics import content_security_policy
from compliance.register import REGISTER
from shared_apps.privacy import selectors as policy_selectors

# First party only: the page may load nothing but its own stylesheet from this host (and,
# when configured, Callrix's self-hosted Matomo: see compliance.analytics).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@require_GET
def processing_register(request: HttpRequest) -> HttpResponse:
    today = timezone.now().date()
    context = {
        "register": REGISTER,
        "policy": policy_selectors.policy_current(today=today),
        "policy_upcoming": policy_selectors.policy_upcoming(today=today),
        "categories": [
            (category, REGISTER.processor(category.held_by) if category.held_by else None)
            for category in REGISTER.categories
        ],
        "purposes": [
            (purpose, [REGISTER.category(key) for key in purpose.categories])
            for purpose in REGISTER.purposes
        ],
    }
    response = render(request, "compliance/register.html", context)
    response["Content-Security-Policy"] = content_security_policy(request, CONTENT_SECURITY_POLICY)
    patch_vary_headers(response, ["DNT"])  # the analytics snippet depends on it
    return response
