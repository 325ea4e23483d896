"""What a program run outside the test process needs to reach the test database: a URL for it,
and PostgreSQL's client tools (pg_dump, pg_restore, psql) of the server's own major version.

pg_dump refuses a server newer than itself ("server version mismatch"), and the machine's
tools need not match the server the tests talk to: the embedded PostgreSQL (pgserver) is 16
wherever Debian's client is 15. Debian keeps each installed version's tools in
/usr/lib/postgresql/<major>/bin; pgserver ships its own beside its server.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
from django.db import connection

DEBIAN_VERSIONS = Path("/usr/lib/postgresql")


def database_url(name: str | None = None) -> str:
    """A URL for database `name` (default: the test database) on the server the tests use,
    over its unix socket when that is how they reach it (the embedded PostgreSQL)."""
    settings = connection.settings_dict
    name = name or settings["NAME"]
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    if host.startswith("/"):  # a unix socket folder
        return f"postgresql://{user}{password}@/{name}?host={host}"
    return f"postgresql://{user}{password}@{host}:{settings['PORT'] or 5432}/{name}"


def server_major_version(url: str | None = None) -> int:
    """The major version of the server at `url` (default: the test database's)."""
    with psycopg.connect(url or database_url(), connect_timeout=10) as asked:
        return asked.info.server_version // 10_000  # e.g. 160002 -> 16


def client_bin_dir(major: int | None = None) -> Path | None:
    """The folder of pg_dump, pg_restore and psql of the server's major version (`major`,
    default: asked of the test database's server), or None when this machine has none: then
    whatever is on PATH is used, as before."""
    major = major or server_major_version()
    for folder in _candidate_bin_dirs(major):
        if _tools_version(folder) == major:
            return folder
    return None


def _candidate_bin_dirs(major: int) -> Iterator[Path]:
    yield DEBIAN_VERSIONS / str(major) / "bin"
    with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR as root
        warnings.simplefilter("ignore")
        try:
            from pgserver._commands import POSTGRES_BIN_PATH
        except ImportError:
            return
    yield Path(POSTGRES_BIN_PATH)


def _tools_version(folder: Path) -> int | None:
    """The major version of the client tools in `folder`, if all three are there."""
    if not all((folder / tool).is_file() for tool in ("pg_dump", "pg_restore", "psql")):
        return None
    answer = subprocess.run(
        [str(folder / "pg_dump"), "--version"], capture_output=True, text=True, timeout=30
    )
    found = re.search(r"\) (\d+)", answer.stdout)  # "pg_dump (PostgreSQL) 16.2"
    return int(found.group(1)) if answer.returncode == 0 and found else None
