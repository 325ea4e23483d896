"""URLs on the public host (BASE_DOMAIN): Callrix's own site, API and staff admin."""

from django.contrib import admin
from django.urls import path

from callrix.api import build_api
from identity.api import platform_router as identity_router
from tenants.api import platform_router
from tenants.livekit_webhooks import livekit_webhook

api = build_api(title="Callrix platform API", urls_namespace="platform_api")
api.add_router("", platform_router)
api.add_router("", identity_router)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/platform/v1/", api.urls),
    path("webhooks/livekit", livekit_webhook, name="livekit-webhook"),
]
