from django.urls import path

from tenant_apps.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("advisors/", views.advisors, name="advisors"),
    path("advisors/invite", views.advisor_invite, name="advisor-invite"),
    path("advisors/<int:advisor_id>/", views.advisor_detail, name="advisor"),
    path("advisors/<int:advisor_id>/rate", views.advisor_rate, name="advisor-rate"),
    path("advisors/<int:advisor_id>/suspend", views.advisor_suspend, name="advisor-suspend"),
    path("advisors/<int:advisor_id>/reinstate", views.advisor_reinstate, name="advisor-reinstate"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/", views.user_detail, name="user"),
    path("users/<int:user_id>/credit", views.user_credit, name="user-credit"),
    path("users/<int:user_id>/topups/<int:topup_id>/refund", views.user_refund, name="user-refund"),
    path("users/<int:user_id>/data", views.user_subject_export, name="user-data"),
    path("users/<int:user_id>/minor", views.user_flag_minor, name="user-minor"),
    path("calls/", views.calls, name="calls"),
    path("payouts/", views.payouts, name="payouts"),
    path("packages/", views.packages, name="packages"),
    path("packages/new", views.package_create, name="package-create"),
    path("pricing/", views.pricing, name="pricing"),
    path("brand/", views.brand, name="brand"),
    path("integrations/", views.integrations, name="integrations"),
    path("domains/", views.domains, name="domains"),
    path("exports/", views.exports, name="exports"),
    path("team/", views.team, name="team"),
    path("audit/", views.audit, name="audit"),
]
