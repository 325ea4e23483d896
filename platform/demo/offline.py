"""The offline providers the demo runs when no real credentials are configured: the local
sandboxes of Stripe, LiveKit and FCM, each in its own process.

Their addresses are written to `.callrix/sandboxes.json`, so later commands on this machine
(`callrix sandbox pay …`) reach the same sandboxes the running demo uses.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from callrix import embedded


@dataclass(frozen=True)
class Sandbox:
    name: str
    module: str
    port: int
    env_var: str


STRIPE = Sandbox("stripe", "sandboxes.stripe_sandbox", 8010, "STRIPE_API_BASE")
LIVEKIT = Sandbox("livekit", "sandboxes.livekit_sandbox", 7880, "LIVEKIT_URL")
FCM = Sandbox("fcm", "sandboxes.fcm_sandbox", 8020, "FCM_API_BASE")


def _registry() -> Path:
    return embedded.home() / "sandboxes.json"


def recorded_url(name: str) -> str | None:
    try:
        return json.loads(_registry().read_text()).get(name)
    except (OSError, ValueError):
        return None


def _record(urls: dict[str, str]) -> None:
    _registry().write_text(json.dumps(urls, indent=2))


def post_json(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read() or b"{}")


def get_json(url: str, *, bearer: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read() or b"{}")


def _port_free(port: int) -> bool:
    with socket.socket() as trial:
        try:
            trial.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as trial:
        trial.bind(("127.0.0.1", 0))
        return trial.getsockname()[1]


def _wait_for_own_port(process: subprocess.Popen, port: int, timeout: float = 15.0) -> None:
    """Until `port` answers while `process` runs; a process that exits (it could not bind)
    fails the start instead of leaving the demo talking to whoever holds the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox on port {port} exited (code {process.returncode})")
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0 and process.poll() is None:
                return
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"nothing answers on port {port}")


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def start(
    sandbox: Sandbox, *, extra_args: list[str] | None = None, port: int | None = None
) -> tuple[subprocess.Popen, str]:
    """Start one sandbox process (state kept under .callrix/) and return it with its URL.
    On `port` (a restart keeps its first one), else the sandbox's usual port, or any free one
    when another program (another checkout's demo) holds that: answering on the port is not
    enough, the process started here must be the one listening."""
    state = embedded.home() / f"{sandbox.name}-sandbox.json"
    if port is None:
        port = sandbox.port if _port_free(sandbox.port) else _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            sandbox.module,
            "--port",
            str(port),
            "--state-file",
            str(state),
            *(extra_args or []),
        ]
    )
    _wait_for_own_port(process, port)
    url = f"http://127.0.0.1:{port}"
    urls = {}
    if _registry().exists():
        urls = json.loads(_registry().read_text() or "{}")
    urls[sandbox.name] = url
    _record(urls)
    return process, url
