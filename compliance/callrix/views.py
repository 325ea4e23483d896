"""Pages of Callrix's website about privacy: the processing register (from the same register
as the API) and a terminated licensee's final-export download."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from compliance.callrix import final_export as final_export_service
from compliance.callrix.register import REGISTER
from kernel.errors import DomainError
from kernel.throttling import LicenseeRateThrottle
from shared_apps.privacy import selectors as policy_selectors
from shared_apps.website.analytics import content_security_policy

# First party only: the page may load nothing but its own stylesheet from this host (and,
# when configured, Callrix's self-hosted Matomo: see shared_apps.website.analytics).
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


# The final-export page posts its form to itself; nothing else is loaded or allowed.
FINAL_EXPORT_CSP = (
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _final_export_page(
    request: HttpRequest, context: dict[str, object], status: int = 200
) -> HttpResponse:
    response = render(request, "compliance/final_export.html", context, status=status)
    response["Content-Security-Policy"] = content_security_policy(request, FINAL_EXPORT_CSP)
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ["DNT"])
    return response


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def final_export(request: HttpRequest, token: str) -> HttpResponseBase:
    """A terminated licensee's final export: its owners sign in here to download it."""
    try:
        licensee = final_export_service.final_export_check(token=token)
    except DomainError as error:
        return _final_export_page(request, {"error": error.detail}, status=error.status_code)
    context: dict[str, object] = {"licensee": licensee}
    if request.method == "GET":
        return _final_export_page(request, context)
    throttle = LicenseeRateThrottle("token")
    if not throttle.allow_request(request):
        context["error"] = "Too many attempts. Please wait a minute before trying again."
        return _final_export_page(request, context, status=429)
    try:
        licensee, export, path = final_export_service.final_export_file(
            token=token,
            email=request.POST.get("email", ""),
            password=request.POST.get("password", ""),
        )
    except DomainError as error:
        context["error"] = error.detail
        return _final_export_page(request, context, status=error.status_code)
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{licensee.slug}-final-export-{export.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"  # a whole tenant's data: no copies
    return response
