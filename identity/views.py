"""Server-rendered account pages on licensee hosts: session sign-in/out for the dashboards,
the one-time link to set a password, and e-mail confirmation."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from identity import services
from identity.models import User
from kernel.errors import DomainError


class SignInForm(AuthenticationForm):
    """E-mail is the login; stored lower-cased."""

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").strip().lower()


# Where each role lands after signing in without a `next` page.
ROLE_HOME: dict[str, str] = {
    User.Role.END_USER: "/",
    User.Role.ADVISOR: "/advisor/",
    # Owners and admins run the platform from its dashboard, not from an account page.
    User.Role.OWNER: "/dashboard/",
    User.Role.ADMIN: "/dashboard/",
}


class SignInView(auth_views.LoginView):
    template_name = "identity/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        user = self.request.user  # signed in by now: this runs after the login
        home = ROLE_HOME.get(user.role) if isinstance(user, User) else None
        return home or super().get_default_redirect_url()


class SignOutView(auth_views.LogoutView):
    template_name = "identity/signed_out.html"


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/account.html")


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
def set_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = services.user_from_password_link(uid=uidb64, token=token)
    if user is None:
        return render(request, "identity/set_password.html", {"invalid": True}, status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_confirm(
            uid=uidb64, token=token, new_password=form.cleaned_data["new_password1"]
        )
        return render(request, "identity/set_password.html", {"done": True})
    return render(request, "identity/set_password.html", {"form": form})


@never_cache
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.email_verify(token=token)
    except DomainError as error:
        return render(request, "identity/verify_email.html", {"error": error.detail}, status=400)
    return render(request, "identity/verify_email.html", {"done": True})
