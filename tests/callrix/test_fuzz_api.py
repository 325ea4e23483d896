"""Schemathesis against both APIs' OpenAPI documents, in-process through Django's WSGI
handler, as every kind of caller. Fails on any 5xx, any response its operation does not
document (status, content type, body schema) and any error that is not the JSON contract.

Bounded: a fixed number of derandomised cases per operation, role and mode (valid input and
deliberately invalid input), so the run is the same each time and stays within its budget.
`FUZZ_EXAMPLES` raises the number for a deeper run by hand."""

from __future__ import annotations

import copy
import os
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from identity.tokens import token_pair_issue

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OUTCOMES: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the handler must not close the connection that holds
    this test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _schema(api, prefix: str):
    # A copy: schemathesis rewrites the document in place, and ninja's dicts are shared.
    document = copy.deepcopy(api.get_openapi_schema(path_prefix=prefix))
    schema = schemathesis.openapi.from_dict(document)
    schema.app = WSGIHandler()
    return schema


def _error_contract(response) -> None:
    if response.status_code < 400:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), (
        response.status_code,
        response.text[:200],
    )
    body = response.json()
    assert {"detail", "code", "field"} <= body.keys(), body


def _describe(failure: BaseException) -> str:
    if isinstance(failure, BaseExceptionGroup):
        return " | ".join(_describe(inner) for inner in failure.exceptions)
    return f"{type(failure).__name__}: {failure}"


# Which operations each caller is fuzzed on: the ones its role may use (everything else only
# answers 401/403, which the anonymous run already covers for every operation).
LICENSEE_SCOPES = {
    "anonymous": lambda path: True,
    "end_user": lambda path: not path.startswith(("/api/v1/admin", "/api/v1/advisor/")),
    "advisor": lambda path: path.startswith(
        ("/api/v1/advisor/", "/api/v1/calls", "/api/v1/me", "/api/v1/devices")
    ),
    "owner": lambda path: path.startswith(("/api/v1/admin", "/api/v1/me")),
}


def fuzz(
    schema,
    *,
    host: str,
    role: str,
    token: str | None,
    scope=lambda path: True,
    examples: int = EXAMPLES,
) -> tuple[Counter[str], list[str]]:
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if scope(operation.path)]
    for operation in operations:
        modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        if token is None and operation.definition.raw.get("security"):
            modes = modes[:1]  # signed out, invalid input meets the same 401 as valid input
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                response = case.call(base_url=f"http://{host}", headers=headers)
                outcomes[f"{response.status_code // 100}xx"] += 1
                case.validate_response(response, checks=CHECKS, headers=headers)
                _error_contract(response)

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                outcomes["no invalid case"] += 1
            except (Exception, BaseExceptionGroup) as failure:  # every operation's, not the first
                failures.append(f"{operation.label} [{mode.value}]: {_describe(failure)}"[:1500])
    return outcomes, failures


@pytest.fixture
def fuzz_world(alpha, make_user, stripe, livekit, fcm):
    """alpha with one person of each role (an advisor profile included) and their tokens."""
    from tenant_apps.advisors.models import Advisor

    tokens: dict[str, str | None] = {"anonymous": None}
    with schema_context("alpha"):
        for role in ("end_user", "advisor", "owner"):
            user = make_user("alpha", f"fuzz-{role}@alpha.test", role=role)
            if role == "advisor":
                Advisor.objects.create(user=user, display_name="Fuzz", rate_minor_per_minute=100)
            tokens[role] = token_pair_issue(user=user).access
    return tokens


@pytest.mark.parametrize("role", ["anonymous", "end_user", "advisor", "owner"])
def test_the_licensee_api_survives_the_fuzzer(fuzz_world, role):
    from callrix.urls_tenant import api

    outcomes, failures = fuzz(
        _schema(api, "/api/v1/"),
        host="alpha.localhost",
        role=role,
        token=fuzz_world[role],
        scope=LICENSEE_SCOPES[role],
        # Signed out, most operations only answer 401: fewer cases say as much.
        examples=1 if role == "anonymous" else EXAMPLES,
    )
    print(f"FUZZ licensee {role} {sum(outcomes.values())} cases {dict(outcomes)}")
    assert failures == [], "\n\n".join(failures)
    assert outcomes["5xx"] == 0


def test_the_fuzzer_reports_what_the_documents_do_not_say(alpha):
    """The checks bite: a response missing a documented property, and a status nobody
    documented, are failures."""
    from callrix.urls_tenant import api

    document = copy.deepcopy(api.get_openapi_schema(path_prefix="/api/v1/"))
    document["paths"] = {"/api/v1/health": document["paths"]["/api/v1/health"]}
    health = document["paths"]["/api/v1/health"]["get"]["responses"]
    ok_key = next(key for key in health if str(key) == "200")  # int from ninja, str once dumped
    ok = health[ok_key]["content"]["application/json"]["schema"]
    health[ok_key]["content"]["application/json"]["schema"] = {
        "allOf": [ok, {"type": "object", "required": ["never_sent"]}]
    }
    schema = schemathesis.openapi.from_dict(document)
    schema.app = WSGIHandler()
    _, failures = fuzz(schema, host="alpha.localhost", role="anonymous", token=None)
    assert failures and "never_sent" in failures[0]

    del health[next(key for key in health if str(key) == "200")]  # from_dict made it a str
    schema = schemathesis.openapi.from_dict(document)
    schema.app = WSGIHandler()
    _, failures = fuzz(schema, host="alpha.localhost", role="anonymous", token=None)
    assert failures and "200" in failures[0]


@pytest.fixture
def platform_world(make_user):
    """Callrix's own callers on the public host: staff and a licensee's account holder."""
    from shared_apps.accounts.models import AccountHolder

    tokens: dict[str, str | None] = {"anonymous": None}
    with schema_context("public"):
        staff = make_user("public", "fuzz-staff@callrix.test", role="staff", is_staff=True)
        holder = make_user("public", "fuzz-holder@example.test", role="account_holder")
        AccountHolder.objects.create(
            user=holder,
            full_name="Fuzz Holder",
            company="Fuzz Ltd",
            billing_line1="1 Test St",
            billing_city="Limassol",
            billing_postal_code="3036",
            billing_country="CY",
        )
        tokens["staff"] = token_pair_issue(user=staff).access
        tokens["account_holder"] = token_pair_issue(user=holder).access
    return tokens


@pytest.mark.parametrize("role", ["anonymous", "staff", "account_holder"])
def test_the_platform_api_survives_the_fuzzer(platform_world, stripe, settings, role):
    from callrix.urls_public import api

    # Callrix's own Stripe account (sign-ups bill through it) is a sandbox account.
    credentials = stripe.create_account(display_name="Callrix")
    settings.CALLRIX_STRIPE_SECRET_KEY = credentials["secret_key"]
    settings.CALLRIX_STRIPE_WEBHOOK_SECRET = credentials["webhook_secret"]
    outcomes, failures = fuzz(
        _schema(api, "/api/platform/v1/"), host="localhost", role=role, token=platform_world[role]
    )
    print(f"FUZZ platform {role} {sum(outcomes.values())} cases {dict(outcomes)}")
    assert failures == [], "\n\n".join(failures)
    assert outcomes["5xx"] == 0


def test_the_owners_operations_survive_a_stateful_run(fuzz_world):
    """Sequences with links schemathesis infers between operations (an advisor created, then
    read, changed, suspended; a privacy request logged, then completed; …), as the owner."""
    from callrix.urls_tenant import api

    schema = _schema(api, "/api/v1/")
    headers = {"Authorization": f"Bearer {fuzz_world['owner']}"}
    steps: Counter[str] = Counter()

    class OwnerMachine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"base_url": "http://alpha.localhost", "headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            steps[f"{response.status_code // 100}xx"] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)
            _error_contract(response)

    OwnerMachine.run(
        settings=hypothesis_settings(
            max_examples=EXAMPLES * 2,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    print(f"FUZZ licensee owner stateful {sum(steps.values())} steps {dict(steps)}")
    assert sum(steps.values()) > 0 and steps["5xx"] == 0
