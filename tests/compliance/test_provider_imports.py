"""The code talks to no outside provider the processing register does not list: provider SDKs
and network clients are imported only by the gateway modules the register names, and every
dependency is known to talk to a listed processor or to nobody outside."""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

from compliance.callrix.register import REGISTER

# `sandboxes` is left out: local stand-ins for the providers, never deployed.
PRODUCT_PACKAGES = (
    "callrix",
    "tenants",
    "identity",
    "shared_apps",
    "tenant_apps",
    "branding",
    "compliance",
)
# Outside providers' SDKs that no processor of the register owns: importing one anywhere in
# the product means data would flow to someone the register (and the policy) does not name.
UNREGISTERED_PROVIDER_SDKS = (
    "boto3",
    "botocore",
    "sentry_sdk",
    "raven",
    "rollbar",
    "bugsnag",
    "newrelic",
    "datadog",
    "ddtrace",
    "twilio",
    "vonage",
    "plivo",
    "sendgrid",
    "mailchimp_marketing",
    "mailchimp_transactional",
    "postmarker",
    "mixpanel",
    "posthog",
    "analytics",
    "segment",
    "intercom",
    "hubspot",
    "slack_sdk",
    "pusher",
    "onesignal_sdk",
    "openai",
    "anthropic",
    "azure",
    "googleapiclient",
    "algoliasearch",
    "cloudinary",
    "paypalrestsdk",
    "braintree",
    "adyen",
)
# Generic ways to reach another host: only in gateways, or with a reason below.
NETWORK_CLIENTS = (
    "requests",
    "httpx",
    "aiohttp",
    "urllib3",
    "urllib.request",
    "http.client",
    "socket",
    "smtplib",
    "ftplib",
    "websockets",
    "websocket",
    "grpc",
    "pycurl",
)
# Modules that reach the network without being a processor's gateway, and why that sends no
# personal data to anyone the register should list.
NETWORK_MODULES_OUTSIDE_GATEWAYS = {
    "callrix.embedded": "the embedded PostgreSQL and Redis, over unix sockets on this machine",
    "demo.offline": "the local sandboxes the demo starts on 127.0.0.1",
    "tenants.dns": "TXT look-ups of a licensee's own domain at the machine's resolvers "
    "(Hetzner's in production): public DNS records, nothing personal",
}
# Every runtime dependency: the processor it talks to, or None when it talks to no one
# outside (a new dependency needs a line here, i.e. a decision).
DEPENDENCIES = {
    "croniter": None,  # computes schedule times in the scheduler; no data leaves the process
    "django": None,
    "django-tenants": None,
    "django-ninja": None,
    "django-ninja-jwt": None,
    "pydantic": None,
    "psycopg": None,
    "dramatiq": None,
    "django-dramatiq": None,
    "django-axes": None,
    "redis": None,
    "bcrypt": None,
    "cryptography": None,
    "stripe": "stripe",
    "firebase-admin": "google_firebase",
    # fcm_gateway.py's own transport and retries on firebase-admin's session, and its errors.
    "requests": "google_firebase",
    "urllib3": "google_firebase",
    "google-auth": "google_firebase",
    "livekit-api": "livekit",
    "aiohttp": "livekit",  # the LiveKit client's HTTP session (livekit_gateway.py)
    "gunicorn": None,
    "tqdm": None,
    "whitenoise": None,
    "pillow": None,  # brand images are checked and re-encoded locally
    "prometheus-client": None,
    "babel": None,  # locale data shipped in the package; nothing leaves the server
}
ROOT = Path(__file__).resolve().parents[2]


def _product_modules() -> Iterator[tuple[str, Path]]:
    for package in PRODUCT_PACKAGES:
        for folder in importlib.import_module(package).__path__:
            base = Path(folder)
            for path in sorted(base.rglob("*.py")):
                parts = path.relative_to(base).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                yield ".".join((package, *parts)), path


def _imports(path: Path) -> set[str]:
    """Absolute module names imported, including importlib.import_module("…") and
    __import__("…") with a literal name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = getattr(func, "attr", None) or getattr(func, "id", None)
            first = node.args[0]
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                if isinstance(first.value, str):
                    names.add(first.value)
    return names


def _matches(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _gateway_owner() -> dict[str, str]:
    return {
        module: processor.key
        for processor in REGISTER.processors
        for module in processor.gateway_modules
    }


def test_the_scan_sees_the_gateways_and_their_sdks():
    scanned = dict(_product_modules())
    for module in _gateway_owner():
        assert module in scanned
    assert "stripe" in _imports(scanned["tenant_apps.payments.stripe_gateway"])


def test_provider_sdks_are_imported_only_by_their_registered_gateways():
    gateways = _gateway_owner()
    offenders = []
    for module, path in _product_modules():
        for name in _imports(path):
            for processor in REGISTER.processors:
                if any(_matches(name, sdk) for sdk in processor.sdk_packages):
                    if gateways.get(module) != processor.key:
                        offenders.append(f"{module} imports {name} ({processor.name})")
            if any(_matches(name, sdk) for sdk in UNREGISTERED_PROVIDER_SDKS):
                offenders.append(f"{module} imports {name}: a provider the register omits")
    assert not offenders, "\n".join(offenders)


def test_network_clients_are_used_only_by_gateways_or_for_declared_reasons():
    allowed = set(_gateway_owner()) | set(NETWORK_MODULES_OUTSIDE_GATEWAYS)
    offenders = [
        f"{module} imports {name}"
        for module, path in _product_modules()
        for name in _imports(path)
        if module not in allowed and any(_matches(name, client) for client in NETWORK_CLIENTS)
    ]
    assert not offenders, "\n".join(offenders)


def test_an_unregistered_sdk_import_is_caught(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import sentry_sdk\nfrom boto3 import client\n")
    names = _imports(probe)
    assert any(_matches(n, "sentry_sdk") for n in names)
    assert any(_matches(n, "boto3") for n in names)


def test_every_dependency_talks_to_a_listed_processor_or_to_no_one():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
        for requirement in project["dependencies"]
    }
    assert declared == set(DEPENDENCIES), "classify each new dependency in DEPENDENCIES"
    processor_keys = {p.key for p in REGISTER.processors}
    assert {key for key in DEPENDENCIES.values() if key} <= processor_keys
