"""URLs on a licensee's hosts. No Django admin here: staff use the public host only."""

from django.urls import include, path
from django.views.i18n import set_language

from branding import views as brand_views
from callrix.api import build_api
from compliance.licensee import dashboard_urls as compliance_dashboard_urls
from compliance.licensee.api import admin_router as compliance_admin_router
from compliance.licensee.request_api import router as privacy_requests_router
from compliance.licensee.subject_api import router as subject_router
from identity import views as identity_views
from identity.api import admin_router as identity_admin_router
from identity.api import router as identity_router
from tenant_apps.advisors.api import admin_router as advisors_admin_router
from tenant_apps.advisors.api import advisor_router as advisors_self_router
from tenant_apps.advisors.api import router as advisors_router
from tenant_apps.appointments.api import router as appointments_router
from tenant_apps.calls.api import router as calls_router
from tenant_apps.dashboard import urls as dashboard_urls
from tenant_apps.notifications.api import admin_router as notifications_admin_router
from tenant_apps.notifications.api import router as notifications_router
from tenant_apps.payments import views as payment_views
from tenant_apps.payments.api import admin_router as payments_admin_router
from tenant_apps.payments.api import router as payments_router
from tenant_apps.payouts.api import admin_router as payouts_admin_router
from tenant_apps.payouts.api import advisor_router as payouts_advisor_router
from tenant_apps.pricing.api import router as pricing_router
from tenant_apps.promotions.api import admin_router as promotions_admin_router
from tenant_apps.wallets.api import router as wallet_router
from tenant_apps.webapp import views as webapp_views
from tenant_apps.webapp.api import router as branding_router
from tenants.api import licensee_router
from tenants.domains_api import router as domains_router

api = build_api(title="Licensee API", urls_namespace="licensee_api")
api.add_router("", licensee_router)
api.add_router("", branding_router)
api.add_router("", domains_router)
api.add_router("", identity_router)
api.add_router("", identity_admin_router)
api.add_router("", wallet_router)
api.add_router("", payments_router)
api.add_router("", payments_admin_router)
api.add_router("", pricing_router)
api.add_router("", promotions_admin_router)
api.add_router("", advisors_router)
api.add_router("", advisors_admin_router)
api.add_router("", advisors_self_router)
api.add_router("", notifications_router)
api.add_router("", notifications_admin_router)
api.add_router("", calls_router)
api.add_router("", appointments_router)
api.add_router("", payouts_advisor_router)
api.add_router("", payouts_admin_router)
api.add_router("", compliance_admin_router)
api.add_router("", subject_router)
api.add_router("", privacy_requests_router)

urlpatterns = [
    path("api/v1/", api.urls),
    path("webhooks/stripe", payment_views.stripe_webhook, name="stripe-webhook"),
    path(
        "webhooks/stripe/connect",
        payment_views.stripe_connect_webhook,
        name="stripe-connect-webhook",
    ),
    path("manifest.webmanifest", brand_views.web_manifest, name="web-manifest"),
    path("favicon.ico", brand_views.favicon, name="favicon"),
    path("brand/theme.css", brand_views.theme, name="brand-theme"),
    path("brand/<str:name>", brand_views.brand_image, name="brand-image"),
    path("i18n/setlang/", set_language, name="set-language"),
    # One "dashboard" namespace: the dashboard's own pages and compliance's (which sits above
    # the tenant apps, so the dashboard cannot include them itself).
    path(
        "dashboard/",
        include((dashboard_urls.urlpatterns + compliance_dashboard_urls.urlpatterns, "dashboard")),
    ),
    path("account/", identity_views.account, name="account"),
    path("account/login/", identity_views.SignInView.as_view(), name="login"),
    path("account/logout/", identity_views.SignOutView.as_view(), name="logout"),
    path(
        "account/set-password/<uidb64>/<token>/",
        identity_views.set_password,
        name="account-set-password",
    ),
    path("account/verify-email/<str:token>/", identity_views.verify_email, name="verify-email"),
    # The end users' web app and the advisors' console (tenant_apps/webapp).
    path("", webapp_views.directory, name="app-directory"),
    path("advisors/<int:advisor_id>/", webapp_views.advisor_detail, name="app-advisor"),
    path("favorites/", webapp_views.favorites, name="app-favorites"),
    path("wallet/", webapp_views.wallet, name="app-wallet"),
    path("calls/", webapp_views.call_history, name="app-calls"),
    path("calls/<int:call_id>/", webapp_views.call_screen, name="app-call"),
    path("privacy/", webapp_views.privacy, name="app-privacy"),
    path("account/register/", webapp_views.register, name="app-register"),
    path("account/closed/", webapp_views.account_closed, name="app-account-closed"),
    path("advisor/", webapp_views.advisor_console, name="advisor-console"),
    path("advise/", webapp_views.advisor_apply, name="advisor-apply"),
]

# Page errors in the host's brand (callrix.errors); the API paths answer JSON in any case.
handler400 = "callrix.errors.bad_request"
handler403 = "callrix.errors.permission_denied"
handler404 = "callrix.errors.page_not_found"
handler500 = "callrix.errors.server_error"
