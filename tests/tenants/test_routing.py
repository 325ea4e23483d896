from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from identity.models import User
from tenants import services
from tenants.models import Domain

pytestmark = pytest.mark.django_db


def test_each_licensee_host_answers_for_its_own_licensee(alpha, beta, host_client):
    for licensee in (alpha, beta):
        response = host_client(f"{licensee.slug}.localhost").get("/api/v1/health")
        assert response.status_code == 200
        assert response.json() == {
            "licensee": licensee.slug,
            "name": licensee.display_name,
            "status": "trial",
            "redis": True,
        }


def test_host_with_port_and_upper_case_still_routes(alpha, host_client):
    response = host_client("ALPHA.localhost:8000").get("/api/v1/health")
    assert response.json()["licensee"] == "alpha"


def test_tenant_data_is_only_visible_on_its_own_host(alpha, beta, host_client):
    # Each schema holds its own users table; the owner of one is absent from the other.
    with schema_context(alpha.schema_name):
        alpha_emails = set(User.objects.values_list("email", flat=True))
    with schema_context(beta.schema_name):
        beta_emails = set(User.objects.values_list("email", flat=True))
    assert "owner@alpha.test" in alpha_emails and "owner@alpha.test" not in beta_emails
    assert "owner@beta.test" in beta_emails and "owner@beta.test" not in alpha_emails


def test_unknown_host_is_a_json_404_on_the_api(host_client):
    response = host_client("nobody.localhost").get("/api/v1/health")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_host"


def test_unknown_host_is_an_html_404_elsewhere(host_client):
    response = host_client("nobody.example").get("/")
    assert response.status_code == 404
    assert b"No platform is served" in response.content


def test_staff_admin_is_only_on_the_public_host(alpha, host_client):
    assert host_client(f"{alpha.slug}.localhost").get("/admin/").status_code == 404
    assert host_client(f"{alpha.slug}.localhost").get("/admin/login/").status_code == 404
    assert host_client("localhost").get("/admin/login/").status_code == 200


def test_public_health_reports_database_and_redis(host_client):
    response = host_client("localhost").get("/api/platform/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "redis": True}


def test_platform_api_is_not_served_on_licensee_hosts(alpha, host_client):
    assert host_client("alpha.localhost").get("/api/platform/v1/health").status_code == 404


def test_openapi_docs_are_served_for_both_apis(alpha, host_client):
    tenant_schema = host_client("alpha.localhost").get("/api/v1/openapi.json")
    platform_schema = host_client("localhost").get("/api/platform/v1/openapi.json")
    assert "/api/v1/health" in tenant_schema.json()["paths"]
    assert "/api/platform/v1/health" in platform_schema.json()["paths"]


def test_suspended_licensee_answers_403_and_keeps_its_data(alpha, host_client):
    services.licensee_suspend(slug="alpha")
    response = host_client("alpha.localhost").get("/api/v1/health")
    assert response.status_code == 403
    assert response.json()["code"] == "licensee_suspended"
    assert "Alpha Advice" in response.json()["detail"]
    with schema_context(alpha.schema_name):
        assert User.objects.filter(email="owner@alpha.test").exists()

    services.licensee_reactivate(slug="alpha")
    assert host_client("alpha.localhost").get("/api/v1/health").status_code == 200


def test_suspending_one_licensee_leaves_the_other_serving(alpha, beta, host_client):
    services.licensee_suspend(slug="alpha")
    assert host_client("beta.localhost").get("/api/v1/health").status_code == 200


def test_terminated_licensee_answers_410(alpha, host_client):
    services.licensee_set_status(slug="alpha", status="terminated")
    response = host_client("alpha.localhost").get("/api/v1/health")
    assert response.status_code == 410
    assert response.json()["code"] == "licensee_terminated"


def test_warm_request_does_not_query_the_domain_table(alpha, host_client):
    client = host_client("alpha.localhost")
    client.get("/api/v1/health")  # warms the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/health").status_code == 200
    # Not the domain table, and not even a `SET search_path` the connection already has.
    assert queries.captured_queries == []


def test_one_worker_s_routed_hosts_follow_status_changes_and_settings(alpha, host_client, settings):
    """The middleware remembers the hosts it routed (one client keeps one middleware, as a
    worker does): a suspension, a reactivation and a change of the allowed hosts all reach
    the next request of the same worker."""
    client = host_client("alpha.localhost")
    assert client.get("/api/v1/health").status_code == 200
    services.licensee_suspend(slug="alpha")
    assert client.get("/api/v1/health").json()["code"] == "licensee_suspended"
    services.licensee_reactivate(slug="alpha")
    assert client.get("/api/v1/health").json()["licensee"] == "alpha"
    settings.ALLOWED_HOSTS = ["localhost"]  # alpha's host is no longer one we serve
    assert client.get("/api/v1/health").json()["code"] == "unknown_host"


def test_host_cache_follows_a_domain_moving_between_licensees(alpha, beta, host_client):
    services.domain_add(licensee=alpha, domain="advice.example.org")
    client = host_client("advice.example.org")
    assert client.get("/api/v1/health").json()["licensee"] == "alpha"

    domain = Domain.objects.get(domain="advice.example.org")
    domain.tenant = beta
    domain.save()
    assert client.get("/api/v1/health").json()["licensee"] == "beta"

    domain.delete()
    assert client.get("/api/v1/health").status_code == 404


def test_a_new_domain_is_served_even_after_a_cached_miss(alpha, host_client):
    client = host_client("new.example.org")
    assert client.get("/api/v1/health").status_code == 404  # cached as unknown
    services.domain_add(licensee=alpha, domain="new.example.org")
    assert client.get("/api/v1/health").json()["licensee"] == "alpha"


def test_staff_see_licensees_in_the_admin(alpha, make_user, host_client):
    make_user("public", "staff@callrix.test", role="staff", is_staff=True, is_superuser=True)
    client = host_client("localhost")
    client.post(
        "/admin/login/", {"username": "staff@callrix.test", "password": "Velvet-Compass-2031"}
    )
    page = client.get("/admin/tenants/licensee/")
    assert page.status_code == 200 and b"Alpha Advice" in page.content
    assert client.get("/admin/identity/user/").status_code == 200
