"""The stack a load run drives, on loopback and free ports, so it never collides with a
running demo: the three sandboxes, pgbouncer in session mode when it is installed, gunicorn
with the production configuration, job workers and the scheduler, all children of the
demo's supervisor."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from django.conf import settings

from callrix import embedded
from demo import offline
from demo.supervisor import Supervisor

# Capacity, not abuse, is measured: all the mix's traffic comes from one address, which the
# per-address limits (sign-in 30 a minute) would otherwise turn away.
UNTHROTTLED = {
    f"THROTTLE_{name}": "1000000/m"
    for name in ("REGISTER", "TOKEN", "REFRESH", "TOPUP", "CALL", "PASSWORD_RESET")
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sandbox_start(supervisor: Supervisor, sandbox: offline.Sandbox, extra: list[str]) -> str:
    """One sandbox on a free port with a state file of the load test's own (its name says
    so), restarted by the supervisor on the same port and state."""
    mine = dataclasses.replace(sandbox, name=f"loadtest-{sandbox.name}", port=free_port())
    # A fresh state each run: accounts kept from an earlier run would send their webhooks to
    # that run's web port. Restarts during the run keep it.
    (embedded.home() / f"{mine.name}-sandbox.json").unlink(missing_ok=True)
    process, url = offline.start(mine, extra_args=extra)
    first = [process]

    def start() -> subprocess.Popen:
        return first.pop() if first else offline.start(mine, extra_args=extra)[0]

    supervisor.spawn(mine.name, start)
    return url


def sandboxes_start(supervisor: Supervisor, *, web_origin: str) -> dict[str, str]:
    """Stripe, LiveKit and FCM stand-ins; their addresses go into this process's settings
    and the environment the servers inherit."""
    stripe = sandbox_start(supervisor, offline.STRIPE, [])
    os.environ["STRIPE_API_BASE"] = settings.STRIPE_API_BASE = stripe
    livekit = sandbox_start(
        supervisor,
        offline.LIVEKIT,
        [
            "--api-key",
            settings.LIVEKIT_API_KEY,
            "--api-secret",
            settings.LIVEKIT_API_SECRET,
            "--webhook-url",
            f"{web_origin}/webhooks/livekit",
            "--webhook-host",
            "localhost",
        ],
    )
    os.environ["LIVEKIT_URL"] = settings.LIVEKIT_URL = livekit.replace("http://", "ws://")
    fcm = sandbox_start(supervisor, offline.FCM, [])
    account = offline.post_json(f"{fcm}/_sandbox/service-accounts", {"project_id": "callrix-load"})
    os.environ["FCM_API_BASE"] = settings.FCM_API_BASE = fcm
    os.environ["FCM_DEFAULT_CREDENTIALS"] = settings.FCM_DEFAULT_CREDENTIALS = json.dumps(account)
    return {"stripe": stripe, "livekit": livekit, "fcm": fcm}


def pgbouncer_start(supervisor: Supervisor, folder: Path) -> str | None:
    """pgbouncer in session mode (as deploy/compose.yml runs it) in front of the configured
    database, when installed; returns the URL the servers should use, or None."""
    binary = shutil.which("pgbouncer")
    if binary is None:
        return None
    db = settings.DATABASES["default"]
    port = free_port()
    target = " ".join(
        f"{key}={value}"
        for key, value in (
            ("host", db["HOST"] or "127.0.0.1"),
            ("port", db["PORT"] or "5432"),
            ("dbname", db["NAME"]),
            ("user", db["USER"]),
            ("password", db["PASSWORD"]),
        )
        if value
    )
    folder.mkdir(parents=True, exist_ok=True)
    # The servers' own connections are trusted on loopback; pgbouncer logs in to PostgreSQL
    # with the configured user and password.
    (folder / "userlist.txt").write_text(f'"{db["USER"]}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "\n".join(
            [
                "[databases]",
                f"{db['NAME']} = {target}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "pool_mode = session",
                "auth_type = trust",
                f"auth_file = {folder / 'userlist.txt'}",
                "max_client_conn = 200",
                "default_pool_size = 60",
                # A server it cannot reach fails the requests waiting for it within seconds,
                # not after the default two minutes.
                "query_wait_timeout = 15",
                "ignore_startup_parameters = extra_float_digits,options",
                f"logfile = {folder / 'pgbouncer.log'}",
                "",
            ]
        )
    )
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # pgbouncer refuses to run as root. It runs as the owner of the server's socket
        # folder (the embedded PostgreSQL's own user, the only one let in there), else as
        # `nobody` (over TCP).
        host = db["HOST"] or ""
        user = Path(host).owner() if host.startswith("/") else "nobody"
        folder.chmod(0o777)
        for path in folder.iterdir():
            path.chmod(0o666)
        command[1:1] = ["-u", user]
    supervisor.spawn(  # it writes to its logfile
        "pgbouncer",
        lambda: subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    )
    offline.wait_for_port(port)
    user = f"{db['USER']}@" if db["USER"] else ""
    return f"postgresql://{user}127.0.0.1:{port}/{db['NAME']}"


def servers_start(
    supervisor: Supervisor, *, port: int, web_workers: int, job_workers: int, logs: Path
) -> None:
    """gunicorn with the production configuration on loopback, the job workers and the
    scheduler (the environment carries the sandboxes, the database and the limits); their
    log lines go to files in `logs`, not between the figures."""
    web = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(web_workers),
        "callrix.wsgi:application",
    ]
    callrix = [sys.executable, "-m", "callrix.cli"]
    worker = [*callrix, "worker", "--processes", str(job_workers), "--threads", "4"]
    logs.mkdir(parents=True, exist_ok=True)

    def logged(name: str, command: list[str]) -> None:
        def start() -> subprocess.Popen:
            with (logs / f"{name}.log").open("ab") as log:
                return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

        supervisor.spawn(name, start)

    logged("web", web)
    logged("worker", worker)
    logged("scheduler", [*callrix, "scheduler"])
    offline.wait_for_port(port, timeout=90)


def warm_up(port: int, *, host: str, rounds: int) -> None:
    """A fresh web worker imports and compiles on its first requests (seconds on a busy
    machine); the figures are for a running service, so each worker serves some first."""
    for _ in range(rounds):
        for path in ("/api/v1/health", "/api/v1/advisors", "/", "/account/login/"):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"Host": host}
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
