"""The routing validates a request's Host header once per distinct value (tenants.request_host),
and never keeps one that ALLOWED_HOSTS refuses."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tenants import request_host

pytestmark = pytest.mark.django_db


def test_a_refused_host_is_refused_every_time_and_never_kept(licensees):
    with override_settings(ALLOWED_HOSTS=[".localhost"]):
        for _ in range(2):
            response = Client(HTTP_HOST="alpha.evil.example").get("/api/v1/health")
            # A host nobody serves is the error contract's 404 (kernel.errors), in every mode.
            assert response.status_code == 404 and response.json()["code"] == "unknown_host"
        assert "alpha.evil.example" not in request_host._validated


def test_a_host_kept_as_valid_is_refused_once_allowed_hosts_no_longer_allow_it(licensees):
    with override_settings(ALLOWED_HOSTS=[".localhost"]):
        served = Client(HTTP_HOST="alpha.localhost").get("/api/v1/health")
        assert served.status_code == 200 and served.json()["licensee"] == "alpha"
        assert request_host._validated["alpha.localhost"] == "alpha.localhost"
    with override_settings(ALLOWED_HOSTS=["beta.localhost"]):
        refused = Client(HTTP_HOST="alpha.localhost").get("/api/v1/health")
        assert refused.status_code == 404 and refused.json()["code"] == "unknown_host"
        # A different licensee's host answers for its own licensee only.
        other = Client(HTTP_HOST="beta.localhost").get("/api/v1/health")
        assert other.status_code == 200 and other.json()["licensee"] == "beta"


def test_the_port_is_not_part_of_the_routed_host(licensees):
    with override_settings(ALLOWED_HOSTS=[".localhost"]):
        response = Client(HTTP_HOST="alpha.localhost:8000").get("/api/v1/health")
        assert response.status_code == 200 and response.json()["licensee"] == "alpha"
        assert request_host._validated["alpha.localhost:8000"] == "alpha.localhost"
