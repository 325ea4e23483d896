"""The internal endpoints (Traefik's dynamic configuration, Prometheus metrics): served on
the internal hosts only, behind the internal token, and listing exactly the verified custom
domains."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import Domain

pytestmark = pytest.mark.django_db

TOKEN = "internal-token-for-tests-0123456789abcdef"
INTERNAL = "web"


@pytest.fixture(autouse=True)
def _internal_token(settings):
    settings.CALLRIX_INTERNAL_TOKEN = TOKEN
    settings.INTERNAL_HOSTS = [INTERNAL]


@pytest.fixture
def domains(alpha, beta):
    now = timezone.now()
    with schema_context("public"):
        made = {
            "alpha_verified": Domain.objects.create(
                domain="advice.alpha-brand.example", tenant=alpha, is_primary=False, verified_at=now
            ),
            "alpha_pending": Domain.objects.create(
                domain="pending.alpha-brand.example", tenant=alpha, is_primary=False
            ),
            "beta_verified": Domain.objects.create(
                domain="beta-guidance.example", tenant=beta, is_primary=False, verified_at=now
            ),
        }
    return made


def _get(host_client, path, host=INTERNAL, token=TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return host_client(host).get(path, **headers)


def test_traefik_config_routes_exactly_the_verified_custom_domains(host_client, domains):
    response = _get(host_client, "/internal/traefik")

    assert response.status_code == 200, response.content
    routers = response.json()["http"]["routers"]
    rules = sorted(router["rule"] for router in routers.values())
    # Both licensees' verified domains; not the pending one, not `{slug}.localhost` (the
    # wildcard router serves those), each exactly once.
    assert rules == ["Host(`advice.alpha-brand.example`)", "Host(`beta-guidance.example`)"]
    router = routers[f"custom-domain-{domains['beta_verified'].pk}"]
    assert router == {
        "rule": "Host(`beta-guidance.example`)",
        "entryPoints": ["websecure"],
        "service": "callrix-web@docker",
        "middlewares": ["callrix-headers@docker"],
        "tls": {"certResolver": "letsencrypt-http"},
    }


def test_a_domain_joins_the_config_once_verified_and_leaves_when_removed(host_client, domains):
    pending = domains["alpha_pending"]
    with schema_context("public"):
        pending.verified_at = timezone.now()
        pending.save(update_fields=["verified_at"])
    listed = _get(host_client, "/internal/traefik").json()["http"]["routers"]
    assert f"custom-domain-{pending.pk}" in listed

    with schema_context("public"):
        pending.delete()
        domains["alpha_verified"].delete()
        domains["beta_verified"].delete()
    assert _get(host_client, "/internal/traefik").json() == {"http": {"routers": {}}}


@pytest.mark.parametrize("path", ["/internal/traefik", "/internal/metrics"])
@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "advice.alpha-brand.example"])
def test_internal_endpoints_are_not_found_on_public_and_licensee_hosts(
    host_client, domains, host, path
):
    response = _get(host_client, path, host=host)

    assert response.status_code == 404
    assert b"custom-domain" not in response.content and b"callrix_" not in response.content


@pytest.mark.parametrize("path", ["/internal/traefik", "/internal/metrics"])
@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN + "x"])
def test_internal_endpoints_want_the_internal_token(host_client, domains, path, token):
    response = _get(host_client, path, token=token)

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response["WWW-Authenticate"] == "Bearer"


def test_the_internal_host_serves_nothing_else(host_client, domains):
    assert _get(host_client, "/api/platform/v1/health").status_code == 404
    assert _get(host_client, "/admin/").status_code == 404


def test_a_licensee_cannot_claim_an_internal_host(api, alpha, make_user, settings):
    from tests.factories import PASSWORD

    settings.INTERNAL_HOSTS = [INTERNAL, "ops.callrix-internal.example"]
    make_user("alpha", "admin-internal@alpha.test", role="admin")
    token = (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "admin-internal@alpha.test", "password": PASSWORD})
        .json()["access"]
    )
    response = api("alpha").post(
        "/api/v1/admin/domains", {"domain": "ops.callrix-internal.example"}, token=token
    )

    assert response.status_code == 422, response.content
    assert response.json()["field"] == "domain"


def test_metrics_report_platform_state_without_naming_anyone(host_client, domains, licensees):
    response = _get(host_client, "/internal/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'callrix_dependency_up{dependency="postgresql"} 1.0' in text
    assert 'callrix_dependency_up{dependency="redis"} 1.0' in text
    assert 'callrix_custom_domains{state="verified"} 2.0' in text
    assert 'callrix_custom_domains{state="unverified"} 1.0' in text
    trial = [
        line for line in text.splitlines() if line.startswith('callrix_licensees{status="trial"}')
    ]
    assert trial and float(trial[0].split()[-1]) >= 2  # alpha and beta at least
    assert "callrix_spare_schemas " in text
    assert 'callrix_job_messages{queue="payments",state="dead"} 0.0' in text
    # Licensees and their domains are counted, never named.
    assert "alpha" not in text and "beta" not in text and "example" not in text


def test_metrics_count_waiting_job_messages(host_client):
    import dramatiq

    broker = dramatiq.get_broker()
    line = 'callrix_job_messages{queue="payments",state="waiting"}'

    def waiting() -> float:
        text = _get(host_client, "/internal/metrics").content.decode()
        return float(next(row for row in text.splitlines() if row.startswith(line)).split()[-1])

    before = waiting()
    try:
        for _ in range(3):
            broker.enqueue(
                dramatiq.Message(
                    queue_name="payments",
                    actor_name="metrics_probe",
                    args=(),
                    kwargs={},
                    options={},
                )
            )
        assert waiting() == before + 3
    finally:
        broker.flush("payments")
