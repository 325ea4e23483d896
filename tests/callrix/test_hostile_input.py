"""Regression tests for every 500 the hostile-input review found (issue 16): each is now a
4xx in the JSON contract naming what was wrong, refused before any query runs."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HUGE = "9223372036854775808"  # 2**63: past bigint
NUL = "bad\x00value"


def _refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert {"detail", "code", "field"} <= body.keys()
    if field is not None:
        assert body["field"] == field, body
    return body


def _call(client: Client, method: str, path: str, body=None, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method == "get":
        return client.get(path, **headers)
    return getattr(client, method)(path, body or {}, content_type="application/json", **headers)


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/api/v1/advisors"),
        ("end_user", "/api/v1/calls"),
        ("end_user", "/api/v1/wallet/transactions"),
        ("advisor", "/api/v1/advisor/earnings"),
        ("owner", "/api/v1/admin/users"),
        ("owner", "/api/v1/admin/payouts"),
        ("owner", "/api/v1/admin/privacy-requests"),
    ],
)
def test_an_offset_past_bigint_is_422_naming_offset(people, role, path):
    client = Client(HTTP_HOST="alpha.localhost")
    token = people[role][1] if role else None
    _refused(_call(client, "get", f"{path}?offset={HUGE}", token=token), 422, "offset")
    _refused(_call(client, "get", f"{path}?limit={HUGE}", token=token), 422, "limit")


def test_nul_in_every_reported_string_is_422_naming_the_field(people):
    from django_tenants.utils import schema_context

    from tenant_apps.advisors.models import Advisor

    client = Client(HTTP_HOST="alpha.localhost")
    end_user, advisor, owner = (people[r][1] for r in ("end_user", "advisor", "owner"))
    with schema_context("alpha"):
        advisor_id = Advisor.objects.get(user=people["advisor"][0]).pk
    user_id = people["end_user"][0].pk
    cases = [
        ("post", "/api/v1/auth/token", {"email": NUL, "password": "x"}, None, "email"),
        (
            "post",
            "/api/v1/auth/register",
            {
                "email": "n@alpha.test",
                "password": "long-enough-pass-1",
                "display_name": NUL,
                "birth_date": "1990-01-01",
            },
            None,
            "display_name",
        ),
        ("get", "/api/v1/advisors?category=a%00b", None, None, "category"),
        ("patch", "/api/v1/me", {"display_name": NUL}, end_user, "display_name"),
        ("patch", "/api/v1/advisor/me", {"bio": NUL}, advisor, "bio"),
        ("patch", "/api/v1/advisor/me", {"categories": ["ok", NUL]}, advisor, "categories.1"),
        ("post", "/api/v1/devices", {"token": NUL, "platform": "android"}, end_user, "token"),
        (
            "post",
            f"/api/v1/admin/users/{user_id}/credits",
            {"amount": 100, "reason": NUL},
            owner,
            "reason",
        ),
        (
            "post",
            "/api/v1/admin/payments/packages",
            {"code": "gold", "name": NUL, "amount": 500},
            owner,
            "name",
        ),
        (
            "post",
            "/api/v1/admin/privacy-requests",
            {"type": "access", "email": "x@alpha.test", "notes": NUL},
            owner,
            "notes",
        ),
        ("post", f"/api/v1/admin/advisors/{advisor_id}/suspend", {"reason": NUL}, owner, "reason"),
        ("get", "/api/v1/admin/users?q=a%00", None, owner, "q"),
    ]
    for method, path, body, token, field in cases:
        _refused(_call(client, method, path, body, token), 422, field)
    platform = Client(HTTP_HOST="localhost")
    _refused(
        _call(platform, "post", "/api/platform/v1/auth/token", {"email": NUL, "password": "x"}),
        422,
        "email",
    )


def test_control_characters_other_than_nul_are_refused_too(people):
    client = Client(HTTP_HOST="alpha.localhost")
    token = people["end_user"][1]
    _refused(
        _call(client, "patch", "/api/v1/me", {"display_name": "a\x1bb"}, token), 422, "display_name"
    )
    # One-line fields refuse line breaks (the schema type), free text keeps them.
    _refused(
        _call(client, "patch", "/api/v1/me", {"display_name": "a\nb"}, token), 422, "display_name"
    )
    advisor = people["advisor"][1]
    ok = _call(client, "patch", "/api/v1/advisor/me", {"bio": "line one\nline two"}, advisor)
    assert ok.status_code == 200 and ok.json()["bio"] == "line one\nline two"


def test_top_up_policy_amounts_past_the_integer_column_are_422(people):
    client = Client(HTTP_HOST="alpha.localhost")
    body = {"min_amount": 500, "max_amount": 2**31}
    _refused(
        _call(client, "put", "/api/v1/admin/payments/topup-policy", body, people["owner"][1]),
        422,
        "max_amount",
    )
    # Nothing changed: bad input loses no data.
    current = _call(client, "get", "/api/v1/admin/payments/topup-policy", token=people["owner"][1])
    assert current.json()["max_amount"] != 2**31


@pytest.mark.parametrize(
    "host, path",
    [("alpha.localhost", "/api/v1/auth/token"), ("localhost", "/api/platform/v1/auth/token")],
)
def test_multipart_without_a_boundary_is_400_json(alpha, host, path):
    response = Client(HTTP_HOST=host).generic(
        "POST", path, b"email=x", content_type="multipart/form-data"
    )
    _refused(response, 400)
    assert response.json()["code"] == "malformed_multipart"


def test_bodies_that_are_not_json_are_415_and_broken_json_400(alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    form = client.post("/api/v1/auth/token", {"email": "a@b.test", "password": "x"})
    assert _refused(form, 415)["code"] == "unsupported_media_type"
    broken = client.generic("POST", "/api/v1/auth/token", b'{"email": ', "application/json")
    assert _refused(broken, 400)["code"] == "malformed_json"
    deep = client.generic("POST", "/api/v1/auth/token", b"[" * 200_000, "application/json")
    assert _refused(deep, 400)["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("host", "method", "path"),
    [
        ("alpha.localhost", "post", "/api/v1/auth/token"),
        ("alpha.localhost", "post", "/api/v1/auth/register"),
        ("alpha.localhost", "patch", "/api/v1/me"),
        ("alpha.localhost", "put", "/api/v1/admin/notifications/firebase"),
        ("localhost", "post", "/api/platform/v1/signup"),
        ("alpha.localhost", "post", "/webhooks/stripe"),
    ],
)
def test_ten_megabyte_bodies_are_413_json(alpha, host, method, path):
    body = b'{"email": "' + b"a" * 10_000_000 + b'"}'
    response = Client(HTTP_HOST=host).generic(method.upper(), path, body, "application/json")
    assert _refused(response, 413)["code"] == "body_too_large"


def test_a_body_just_over_the_old_two_and_a_half_megabytes_is_413_not_500(alpha):
    body = b'{"token": "' + b"t" * 2_700_000 + b'"}'
    response = Client(HTTP_HOST="alpha.localhost").generic(
        "POST", "/api/v1/devices", body, "application/json"
    )
    _refused(response, 413)


def test_path_ids_past_bigint_are_422(people):
    client = Client(HTTP_HOST="alpha.localhost")
    _refused(_call(client, "get", f"/api/v1/advisors/{HUGE}"), 422, "advisor_id")
    _refused(
        _call(client, "get", f"/api/v1/calls/{HUGE}", token=people["end_user"][1]), 422, "call_id"
    )
    body = {"advisor_id": int(HUGE)}
    _refused(_call(client, "post", "/api/v1/calls", body, people["end_user"][1]), 422, "advisor_id")


def test_pages_refuse_nul_in_forms_and_queries_with_the_brand_page(alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    page = client.get("/?category=a%00b")
    assert page.status_code == 422 and "Alpha Advice" in page.content.decode()
    login = client.post("/account/login/", {"username": NUL, "password": "x"})
    assert login.status_code == 422
    broken = client.generic("POST", "/account/login/", b"x", "multipart/form-data")
    assert broken.status_code == 400


def test_one_licensees_refusals_never_show_anothers_data(people, beta, make_user):
    """Licensee B's token is worthless at A, even on the guarded paths."""
    from identity.tokens import token_pair_issue

    outsider = make_user("beta", "outsider@beta.test", role="owner")
    from django_tenants.utils import schema_context

    with schema_context("beta"):
        token = token_pair_issue(user=outsider).access
    client = Client(HTTP_HOST="alpha.localhost")
    response = _call(client, "get", "/api/v1/admin/users?q=hostile", token=token)
    assert response.status_code == 401
    assert "hostile-" not in response.content.decode()


def test_a_query_with_too_many_parameters_is_400_json(alpha):
    query = "&".join(f"p{i}=1" for i in range(1_500))
    response = Client(HTTP_HOST="alpha.localhost").get(f"/api/v1/advisors?{query}")
    assert _refused(response, 400)["code"] == "bad_request"
