"""URLs on the public host (BASE_DOMAIN): Callrix's own site, API and staff admin."""

from django.contrib import admin
from django.urls import path

from callrix.api import build_api
from compliance.callrix import views as compliance_views
from compliance.callrix.account_api import router as account_router
from compliance.callrix.api import platform_router as compliance_router
from identity.api import platform_router as identity_router
from shared_apps.licensing.api import router as signup_router
from shared_apps.licensing.webhooks import billing_stripe_webhook
from shared_apps.website import views as site_views
from tenant_apps.calls.livekit_webhooks import livekit_webhook
from tenants.api import platform_router

# The staff admin is Callrix's own tool: its pages say so instead of "Django administration".
admin.site.site_header = "Callrix staff admin"
admin.site.site_title = "Callrix staff admin"
admin.site.index_title = "Licensees, billing and privacy"

api = build_api(title="Callrix platform API", urls_namespace="platform_api")
api.add_router("", platform_router)
api.add_router("", identity_router)
api.add_router("", signup_router)
api.add_router("", compliance_router)
api.add_router("", account_router)

urlpatterns = [
    path("", site_views.home, name="home"),
    path("signup/", site_views.signup_page, name="signup"),
    path("favicon.ico", site_views.favicon, name="site-favicon"),
    path("pricing/", site_views.pricing, name="pricing"),
    path("privacy/", site_views.privacy_policy, name="privacy-policy"),
    path("legal/", site_views.legal_notice, name="legal-notice"),
    path("contact/", site_views.contact, name="contact"),
    path("signup/status/<str:token>/", site_views.signup_status, name="signup-status"),
    path("admin/", admin.site.urls),
    path("api/platform/v1/", api.urls),
    path("webhooks/livekit", livekit_webhook, name="livekit-webhook"),
    path("webhooks/stripe", billing_stripe_webhook, name="billing-stripe-webhook"),
    path("privacy/register", compliance_views.processing_register, name="privacy-register"),
    path("privacy/final-export/<str:token>", compliance_views.final_export, name="final-export"),
]

# Page errors in the host's brand (callrix.errors); the API paths answer JSON in any case.
handler400 = "callrix.errors.bad_request"
handler403 = "callrix.errors.permission_denied"
handler404 = "callrix.errors.page_not_found"
handler500 = "callrix.errors.server_error"
