"""URLs on a licensee's hosts. No Django admin here: staff use the public host only."""

from django.urls import path

from callrix.api import build_api
from identity import views as identity_views
from tenants.api import licensee_router

api = build_api(title="Licensee API", urls_namespace="licensee_api")
api.add_router("", licensee_router)

urlpatterns = [
    path("api/v1/", api.urls),
    path(
        "account/set-password/<uidb64>/<token>/",
        identity_views.set_password,
        name="account-set-password",
    ),
]
