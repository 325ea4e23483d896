"""The compliance pages of the licensee dashboard (`compliance.licensee.dashboard`). No
namespace of their own: `callrix.urls_tenant` includes them with `tenant_apps.dashboard.urls`
under "dashboard", so they keep the dashboard's paths and URL names."""

from django.urls import path

from compliance.licensee import dashboard

urlpatterns = [
    path("users/<int:user_id>/data", dashboard.user_subject_export, name="user-data"),
    path("users/<int:user_id>/minor", dashboard.user_flag_minor, name="user-minor"),
    path("exports/", dashboard.exports, name="exports"),
]
