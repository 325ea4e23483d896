"""Who may open the dashboard: a signed-in owner or admin of this licensee (sessions live in
the licensee's own schema, so a session from another host is worthless here)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from identity.models import User

ADMIN_ROLES = (User.Role.OWNER, User.Role.ADMIN)


class DashboardRequest(HttpRequest):
    """What a view behind `dashboard_view` is handed: `user` is this licensee's signed-in
    owner or admin (`dashboard_view` answers anyone else). For annotations only; no request
    is one."""

    user: User


def dashboard_view(view=None, *, owner_only: bool = False):
    def decorate(view):
        @never_cache
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            allowed = (User.Role.OWNER,) if owner_only else ADMIN_ROLES
            if user.role not in allowed:
                return render(request, "dashboard/forbidden.html", status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate
