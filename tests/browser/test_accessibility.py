"""WCAG 2.1 AA on every page of both hosts: axe-core (from npm, tests/browser/node_modules)
runs in Chromium on Callrix's public site and on a licensee's pages (as a visitor and signed
in as each role) and may find no serious or critical violation. Results per page are written
to test-artifacts/axe/<page>.json and printed as `AXE <page> <violations by impact>`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from shared_apps.billing.models import Plan
from tests.factories import PASSWORD

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
RESULTS = Path(settings.BASE_DIR) / "test-artifacts" / "axe"
PUBLIC_PAGES = [
    "/",
    "/pricing/",
    "/signup/",
    "/privacy/",
    "/legal/",
    "/contact/",
    "/privacy/register",
    "/admin/login/",
]
LICENSEE_PAGES = {
    None: ["/", "/account/login/", "/account/register/"],
    "axe-caller@vega.test": ["/wallet/", "/calls/", "/favorites/", "/privacy/", "/account/"],
    "axe-advisor@vega.test": ["/advisor/"],
    "owner@vega.test": [
        "/dashboard/",
        "/dashboard/advisors/",
        "/dashboard/users/",
        "/dashboard/calls/",
        "/dashboard/payouts/",
        "/dashboard/packages/",
        "/dashboard/pricing/",
        "/dashboard/brand/",
        "/dashboard/integrations/",
        "/dashboard/domains/",
        "/dashboard/mail-sender/",
        "/dashboard/exports/",
        "/dashboard/team/",
        "/dashboard/audit/",
    ],
}


def _axe(page, name: str) -> list[dict]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run scripts/bootstrap dev (npm ci in tests/browser).")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    assert len(result["passes"]) > 10, "axe ran its checks on the page"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result["violations"], indent=2))
    counts: dict[str, int] = {}
    for violation in result["violations"]:
        counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
    print(f"AXE {name} {json.dumps(counts, sort_keys=True)}")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _summary(violations: list[dict]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes'][:3]]}"
        for v in violations
    )


@pytest.fixture
def plans_on_offer(committed):
    with schema_context("public"):
        made = [
            Plan.objects.create(code="axe-basic", name="Basic", monthly_fee_minor=4_900),
            Plan.objects.create(
                code="axe-trial", name="Starter", monthly_fee_minor=9_900, trial_days=14
            ),
        ]
    yield made
    with schema_context("public"):
        Plan.objects.filter(pk__in=[plan.pk for plan in made]).delete()
    connection.set_schema_to_public()


def test_the_public_site_has_no_serious_accessibility_violation(
    browser, callrix_server, plans_on_offer, screenshot
):
    context = browser.new_context(
        base_url=callrix_server.url.replace("127.0.0.1", "localhost"), bypass_csp=True
    )
    page = context.new_page()
    failures = []
    for path in PUBLIC_PAGES:
        page.goto(path)
        name = "site" + path.rstrip("/").replace("/", "-") if path != "/" else "site-home"
        screenshot(page, name)
        found = _axe(page, name)
        if found:
            failures.append(f"{path}: {_summary(found)}")
    context.close()
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def vega(django_db_setup, django_db_blocker):
    """A branded licensee of its own, with a caller and an advisor, dropped afterwards."""
    from django.db import connections
    from django_tenants.utils import tenant_context

    from branding import services as brand_services
    from branding.selectors import brand_cache
    from identity.models import User
    from tests.browser.conftest import AURORA_BRAND
    from tests.factories import licensee_destroy, licensee_make, password_hash
    from tests.tenant_apps.calls.conftest import make_advisor

    with django_db_blocker.unblock():
        licensee = licensee_make(
            slug="vega", name="Vega Insight", owner_password_hash=password_hash(), status="active"
        )
        brand_services.brand_update(licensee=licensee, **(AURORA_BRAND | {"app_name": "Vega"}))
        with tenant_context(licensee):
            User.objects.create(
                email="axe-caller@vega.test",
                role="end_user",
                password=password_hash(),
                display_name="Axe Caller",
            )
            make_advisor("axe-advisor@vega.test", display_name="Axe Advisor")
        connection.set_schema_to_public()
        connections.close_all()
    yield licensee
    with django_db_blocker.unblock():
        licensee_destroy(licensee)
        brand_cache.invalidate()
        connection.set_schema_to_public()
        connections.close_all()


def test_a_licensees_pages_have_no_serious_accessibility_violation(
    browser, vega, licensee_url, committed
):
    failures = []
    for who, paths in LICENSEE_PAGES.items():
        context = browser.new_context(base_url=licensee_url("vega"), bypass_csp=True)
        page = context.new_page()
        if who:
            page.goto("/account/login/")
            page.get_by_label("E-mail").fill(who)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
        for path in paths:
            page.goto(path)
            name = "licensee" + (path.rstrip("/").replace("/", "-") or "-home")
            found = _axe(page, name)
            if found:
                failures.append(f"{path}: {_summary(found)}")
        context.close()
    assert not failures, "\n".join(failures)
