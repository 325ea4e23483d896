"""URLs on the internal hosts (INTERNAL_HOSTS, e.g. the Compose service name `web`), reached
only from inside the Compose network: Traefik's dynamic configuration and Prometheus."""

from django.urls import path

from tenants import internal_views

urlpatterns = [
    path("internal/traefik", internal_views.traefik_config, name="internal-traefik"),
    path("internal/metrics", internal_views.prometheus_metrics, name="internal-metrics"),
]

# Page errors in the host's brand (callrix.errors); the API paths answer JSON in any case.
handler400 = "callrix.errors.bad_request"
handler403 = "callrix.errors.permission_denied"
handler404 = "callrix.errors.page_not_found"
handler500 = "callrix.errors.server_error"
