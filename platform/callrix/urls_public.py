"""URLs on the public host (BASE_DOMAIN): Callrix's own site, API and staff admin."""

from django.contrib import admin
from django.urls import path

from callrix.api import build_api
from tenants.api import platform_router

api = build_api(title="Callrix platform API", urls_namespace="platform_api")
api.add_router("", platform_router)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/platform/v1/", api.urls),
]
