from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.db import DataError, connection
from django_tenants.utils import schema_context

from tenants import provisioning, selectors, services
from tenants.errors import InvalidLicenseeField, InvalidSlug, SlugTaken
from tenants.models import Domain, Licensee, SpareSchema
from tests.factories import licensee_destroy


def _nothing_left(slug: str) -> bool:
    schema = slug.replace("-", "_")
    with schema_context("public"):
        return (
            not Licensee.objects.filter(slug=slug).exists()
            and not Domain.objects.filter(domain__startswith=f"{slug}.").exists()
            and not selectors.schema_exists(schema_name=schema)
        )


@pytest.mark.django_db
def test_provisioning_takes_a_spare_and_creates_domain_and_owner():
    provisioning.spare_pool_refill(size=1)
    spares_before = set(SpareSchema.objects.values_list("schema_name", flat=True))
    result = services.licensee_provision(
        slug="gamma-star",
        display_name="Gamma Star",
        owner_email="Boss@Gamma.test",
        owner_password="a-long-and-unusual-passphrase",
    )
    licensee = result.licensee
    assert licensee.schema_name == "gamma_star"
    assert set(SpareSchema.objects.values_list("schema_name", flat=True)) == spares_before - {
        s for s in spares_before if not selectors.schema_exists(schema_name=s)
    }
    assert len(spares_before) - SpareSchema.objects.count() == 1
    assert Domain.objects.get(tenant=licensee).domain == "gamma-star.localhost"
    with schema_context("gamma_star"):
        owner = get_user_model().objects.get()
    assert owner.email == "boss@gamma.test" and owner.role == "owner"
    assert owner.check_password("a-long-and-unusual-passphrase")
    assert result.set_password_url is None


@pytest.mark.django_db
def test_provisioning_without_password_gives_a_working_one_time_link(host_client):
    result = services.licensee_provision(
        slug="delta", display_name="Delta", owner_email="owner@delta.test"
    )
    assert result.set_password_url.startswith("http://delta.localhost")
    path = urlparse(result.set_password_url).path
    client = host_client("delta.localhost")
    page = client.get(path)
    assert page.status_code == 200
    done = client.post(
        path, {"new_password1": "Sunrise-Orchid-42", "new_password2": "Sunrise-Orchid-42"}
    )
    assert b"Your password is set" in done.content
    with schema_context("delta"):
        assert get_user_model().objects.get().check_password("Sunrise-Orchid-42")
    assert client.get(path).status_code == 400  # one time only


@pytest.mark.django_db
def test_provisioning_with_an_empty_pool_builds_a_schema():
    provisioning.spare_pool_drain()
    assert SpareSchema.objects.count() == 0
    services.licensee_provision(slug="epsilon", display_name="Eps", owner_email="o@eps.test")
    assert selectors.schema_exists(schema_name="epsilon")
    with schema_context("epsilon"):
        assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    "slug",
    [
        "ab",
        "a" * 41,
        "Upper",
        "under_score",
        "-lead",
        "trail-",
        "dou--ble",
        "spa ce",
        "",
        "www",
        "admin",
        "api",
        "public",
        "static",
        "media",
        "app",
        "mail",
    ],
)
@pytest.mark.django_db
def test_invalid_or_reserved_slugs_are_refused_and_leave_nothing(slug):
    with pytest.raises(InvalidSlug) as refused:
        services.licensee_provision(slug=slug, display_name="X", owner_email="o@x.test")
    assert refused.value.field == "slug"
    if slug and slug != "public":  # the public schema exists, of course
        assert _nothing_left(slug)


@pytest.mark.django_db
def test_duplicate_slug_is_refused(alpha):
    with pytest.raises(SlugTaken):
        services.licensee_provision(slug="alpha", display_name="Again", owner_email="o@a.test")
    assert Licensee.objects.filter(slug="alpha").count() == 1


@pytest.mark.django_db
def test_bad_owner_email_is_refused_before_anything_happens():
    with pytest.raises(InvalidLicenseeField) as refused:
        services.licensee_provision(slug="zeta", display_name="Zeta", owner_email="not-an-email")
    assert refused.value.field == "owner_email"
    assert _nothing_left("zeta")


def test_a_failure_midway_rolls_everything_back_and_keeps_the_spare(committed, licensees):
    """Fails after the spare was renamed (the display name overflows its column)."""
    spares_before = set(SpareSchema.objects.values_list("schema_name", flat=True))
    with pytest.raises(DataError):
        services.licensee_provision(
            slug="theta", display_name="T" * 500, owner_email="o@theta.test"
        )
    assert _nothing_left("theta")
    assert set(SpareSchema.objects.values_list("schema_name", flat=True)) == spares_before
    for spare in spares_before:
        assert selectors.schema_exists(schema_name=spare)


def test_committed_provisioning_is_served_and_refill_restores_the_pool(
    throwaway_licensee, host_client
):
    licensee = throwaway_licensee("iota", "Iota Insight")
    response = host_client("iota.localhost").get("/api/v1/health")
    assert response.json() == {
        "licensee": "iota",
        "name": "Iota Insight",
        "status": "trial",
        "redis": True,
    }
    provisioning.spare_pool_refill(size=2)
    assert SpareSchema.objects.count() == 2
    connection.set_schema_to_public()
    assert licensee.pk


def test_destroyed_licensee_leaves_no_schema(committed, licensees):
    licensee = services.licensee_provision(
        slug="kappa", display_name="K", owner_email="o@k.test"
    ).licensee
    licensee_destroy(licensee)
    assert _nothing_left("kappa")
