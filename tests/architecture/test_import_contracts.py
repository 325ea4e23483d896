"""The import contracts in pyproject.toml hold on the code, and each one would catch the
import it exists to forbid: a test adds that import to the real graph and expects a break."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import grimp
import pytest
from importlinter.application.use_cases import read_user_options
from importlinter.configuration import configure
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract

PYPROJECT = str(Path(__file__).resolve().parents[2] / "pyproject.toml")
CONTRACT_TYPES = {
    "layers": LayersContract,
    "forbidden": ForbiddenContract,
    "acyclic_siblings": AcyclicSiblingsContract,
}

# contract id -> imports (importer, imported) each of which alone must break it
VIOLATIONS: dict[str, list[tuple[str, str]]] = {
    "top-level-layers": [
        ("tenants.routing", "shared_apps.billing.models"),  # tenancy reaching up
        ("kernel.money", "branding.selectors"),
        ("shared_apps.billing.services", "compliance.callrix.register"),
        ("callrix.settings", "demo.aurora"),  # the composition root importing the demo
    ],
    "kernel-imports-no-app": [("kernel.money", "identity.models")],
    "sandboxes-stand-alone": [("sandboxes._server", "kernel.errors")],
    "public-apps-not-tenant-apps": [
        ("shared_apps.billing.services", "tenant_apps.calls.models"),
        ("shared_apps.usage.metering", "compliance.licensee.erasure"),
    ],
    "tenant-side-through-bridge": [
        ("tenant_apps.calls.selectors", "tenants.models"),
        ("tenant_apps.wallets.selectors", "tenants.selectors"),
        ("compliance.licensee.erasure", "shared_apps.billing.models"),
        ("compliance.licensee.selectors", "compliance.callrix.register"),
    ],
    "identity-neither-side": [("identity.services", "tenants.models")],
    "brand-core-neither-side": [("branding.selectors", "tenant_apps.payments.selectors")],
    "apps-acyclic": [
        ("tenant_apps.wallets.models", "tenant_apps.calls.models"),
        ("shared_apps.accounts.models", "shared_apps.billing.models"),
        ("compliance.licensee.models", "compliance.callrix.register"),
    ],
    "app-layers": [
        ("tenant_apps.advisors.models", "tenant_apps.advisors.services"),
        ("tenant_apps.wallets.selectors", "tenant_apps.wallets.services"),
        ("shared_apps.billing.selectors", "shared_apps.billing.services"),
    ],
}


@pytest.fixture(scope="module")
def options():
    configure()  # what the `lint-imports` command does first
    return read_user_options(PYPROJECT)


@pytest.fixture(scope="module")
def graph(options):
    return grimp.build_graph(*options.session_options["root_packages"], cache_dir=None)


def _contract(options, contract_id: str):
    for contract_options in options.contracts_options:
        if contract_options["id"] == contract_id:
            contract_type = CONTRACT_TYPES[contract_options["type"]]
            return contract_type(
                name=contract_options["name"],
                session_options=options.session_options,
                contract_options=contract_options,
            )
    raise LookupError(contract_id)


def test_every_contract_has_a_violation_to_catch(options):
    assert {c["id"] for c in options.contracts_options} == set(VIOLATIONS)


@pytest.mark.parametrize("contract_id", sorted(VIOLATIONS))
def test_contract_holds_on_the_code(options, graph, contract_id):
    check = _contract(options, contract_id).check(deepcopy(graph), verbose=False)
    assert check.kept, check.metadata


@pytest.mark.parametrize(
    "contract_id, importer, imported",
    [
        (cid, importer, imported)
        for cid, pairs in VIOLATIONS.items()
        for importer, imported in pairs
    ],
)
def test_contract_breaks_on_a_violating_import(options, graph, contract_id, importer, imported):
    for module in (importer, imported):
        assert module in graph.modules, f"{module} is not a module any more: pick another"
    violated = deepcopy(graph)
    violated.add_import(importer=importer, imported=imported, line_number=1, line_contents="x")
    check = _contract(options, contract_id).check(violated, verbose=False)
    assert not check.kept
