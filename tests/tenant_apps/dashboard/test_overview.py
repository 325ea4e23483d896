"""The overview's figures come from real, settled calls."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from tests.tenant_apps.calls.conftest import make_advisor, make_caller
from tests.tenant_apps.dashboard.conftest import call_played

pytestmark = pytest.mark.django_db


def test_the_overview_counts_settled_calls_and_new_users(alpha, beta, signed_in, livekit, clock):
    with schema_context("alpha"):
        luna = make_advisor("luna@example.test", rate=200, display_name="Luna")
        orion = make_advisor("orion@example.test", rate=300, display_name="Orion")
        casey = make_caller("casey@example.test", credit_minor=5_000)
    with schema_context("beta"):
        make_caller("bea@beta.test")  # another licensee's user: not counted here
    call_played(
        licensee=alpha, livekit=livekit, caller=casey, advisor=luna, timer=clock, talk_seconds=95
    )
    call_played(
        licensee=alpha, livekit=livekit, caller=casey, advisor=orion, timer=clock, talk_seconds=120
    )

    page = signed_in("alpha", "owner").get("/dashboard/?period=7")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-kpi="revenue">€9.17<' in html  # 317 + 600
    assert 'data-kpi="calls">2<' in html
    assert 'data-kpi="talk">3.6<' in html  # 215 s
    assert 'data-kpi="new_users">1<' in html
    chart = json.loads(
        html.split('id="chart-revenue" type="application/json">')[1].split("</script>")[0]
    )
    assert sum(chart["datasets"][0]["data"]) == pytest.approx(9.17)
    top = html.split("Top advisors")[1]
    assert top.index("Orion") < top.index("Luna")  # ranked by revenue

    csv_rows = b"".join(
        signed_in("alpha", "admin").get("/dashboard/?period=7&format=csv").streaming_content
    )
    assert csv_rows.decode("utf-8-sig").splitlines()[-1].endswith(",917,3.6,2,1,9.17")
