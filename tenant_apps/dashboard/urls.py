"""The dashboard's own pages. Its compliance pages (an end user's data-subject requests, the
data exports) are compliance's (`compliance.licensee.dashboard_urls`); the composition root
(`callrix.urls_tenant`) includes both lists in the one "dashboard" namespace."""

from django.urls import path

from tenant_apps.dashboard.views import (
    advisors,
    audit,
    bookings,
    brand,
    calls,
    domains,
    end_users,
    integrations,
    mail_sender,
    money_settings,
    overview,
    payouts,
    plan,
    promotions,
    team,
)

app_name = "dashboard"
urlpatterns = [
    path("", overview.overview, name="overview"),
    path("plan/", plan.plan, name="plan"),
    path("advisors/", advisors.advisors, name="advisors"),
    path("advisors/invite", advisors.advisor_invite, name="advisor-invite"),
    path("advisors/applications/", advisors.applications, name="applications"),
    path(
        "advisors/applications/<int:application_id>/approve",
        advisors.application_approve,
        name="application-approve",
    ),
    path(
        "advisors/applications/<int:application_id>/reject",
        advisors.application_reject,
        name="application-reject",
    ),
    path(
        "advisors/<int:advisor_id>/commission",
        advisors.advisor_commission,
        name="advisor-commission",
    ),
    path("advisors/<int:advisor_id>/", advisors.advisor_detail, name="advisor"),
    path("advisors/<int:advisor_id>/rate", advisors.advisor_rate, name="advisor-rate"),
    path("advisors/<int:advisor_id>/suspend", advisors.advisor_suspend, name="advisor-suspend"),
    path(
        "advisors/<int:advisor_id>/reinstate",
        advisors.advisor_reinstate,
        name="advisor-reinstate",
    ),
    path("users/", end_users.users, name="users"),
    path("users/<int:user_id>/", end_users.user_detail, name="user"),
    path("users/<int:user_id>/credit", end_users.user_credit, name="user-credit"),
    path(
        "users/<int:user_id>/topups/<int:topup_id>/refund",
        end_users.user_refund,
        name="user-refund",
    ),
    path("calls/", calls.calls, name="calls"),
    path("payouts/", payouts.payouts, name="payouts"),
    path("bookings/", bookings.bookings, name="bookings"),
    path("packages/", money_settings.packages, name="packages"),
    path("promotions/", promotions.promotions, name="promotions"),
    path("promotions/new", promotions.promotion_create, name="promotion-create"),
    path("packages/new", money_settings.package_create, name="package-create"),
    path("pricing/", money_settings.pricing, name="pricing"),
    path("brand/", brand.brand, name="brand"),
    path("integrations/", integrations.integrations, name="integrations"),
    path("domains/", domains.domains, name="domains"),
    path("mail-sender/", mail_sender.mail_sender, name="mail-sender"),
    path("team/", team.team, name="team"),
    path("audit/", audit.audit, name="audit"),
]
