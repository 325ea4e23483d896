"""Brute-force lockout with django-axes, per licensee (its attempt tables live in every
schema, so a lockout at one licensee never touches another).

Axes flags a request as locked out on the very failure that reaches the limit; we answer that
attempt honestly (wrong password) and refuse from the next one on, so with a limit of 5 the
sixth try in a row gets the 429.
"""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_DETAIL = (
    "Too many failed sign-in attempts for this account from your address. "
    "Try again in {minutes} minutes or reset your password."
)


def cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_out_body() -> dict:
    minutes = math.ceil(cooloff_seconds() / 60)
    return {"detail": LOCKED_DETAIL.format(minutes=minutes), "code": "locked_out", "field": None}


class LockoutBackend(AxesStandaloneBackend):
    """Marks requests refused because the account+address pair was already locked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            request.callrix_refused_locked = True
            raise


class LockoutMiddleware:
    """Turns a refused, locked-out sign-in (API, session or staff admin) into a 429."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "callrix_refused_locked", False):
            response = (
                JsonResponse(locked_out_body(), status=429)
                if request.path.startswith("/api/")
                else _locked_out_page(request)
            )
            response["Retry-After"] = str(cooloff_seconds())
        return response


def _locked_out_page(request) -> HttpResponse:
    """A person at a sign-in form gets a page in their language, not the API's JSON."""
    return render(
        request,
        "identity/locked_out.html",
        {"minutes": math.ceil(cooloff_seconds() / 60), "login_path": request.path},
        status=429,
    )
