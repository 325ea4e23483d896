"""Spare schemas built from a template instead of by migrating each one
(docs/decisions/0001-warm-schema-pool.md).

Migrating a schema runs every tenant migration through Django: ~0.5 s of a core on a quiet
machine, several seconds on a busy one, and on a small node that CPU is taken from the
sign-ups the pool is there to serve. So a process migrates one private schema once, dumps it
with `pg_dump` (structure and the rows the migrations seeded, as plain SQL) and drops it;
every later spare of that process is that SQL replayed under the spare's name, which
PostgreSQL runs in a fraction of the time. The template is kept per process: it is exactly
what this process's migrations make, so a deploy with new migrations makes a new one.

The template is never a schema anyone could claim, so it cannot carry a licensee's rows. When
there is no template (not made yet, no usable `pg_dump`, or asked inside a transaction whose
work `pg_dump` could not see), spares are migrated as before.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path

from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenants import schemas

logger = logging.getLogger(__name__)

DUMP_TIMEOUT_S = 60
DEBIAN_CLIENTS = Path("/usr/lib/postgresql")

RETRY_AFTER_S = 600  # a failed template is not tried again (one more migration) before this

_template: dict[str, str] = {}  # "sql" and the "name" written in it, once made
_unavailable: list[str] = []  # why the last try failed, while it is recent
_failed_at: list[float] = []
_making = threading.Lock()  # one template per process, whichever worker thread asks first


def replay_sql() -> tuple[str, str] | None:
    """The template's SQL and the schema name written in it, or None."""
    if "sql" not in _template:
        return None
    return _template["sql"], _template["name"]


def schema_create_from_template(schema_name: str) -> bool:
    """Create `schema_name` fully migrated, from the template (inside the caller's
    transaction, if any); False (nothing done) when there is no template."""
    template = replay_sql()
    if template is None:
        return False
    sql, name = template
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.replace(name, schema_name))
    return True


def template_prepare() -> bool:
    """Make this process's template if it has none: migrate a private schema, dump it, drop
    it. Must run outside any transaction (pg_dump reads what is committed). True when a
    template is ready; after a failure, False without trying again for RETRY_AFTER_S."""
    if "sql" in _template:
        return True
    if connection.in_atomic_block:
        return False
    with _making:
        if "sql" in _template:
            return True
        if _failed_at and time.monotonic() - _failed_at[-1] < RETRY_AFTER_S:
            return False
        try:
            sql, name = _template_make()
        except (OSError, subprocess.SubprocessError) as failed:
            logger.warning("spare schemas are migrated one by one: %s", failed)
            _unavailable[:] = [str(failed)]
            _failed_at[:] = [time.monotonic()]
            return False
        _template.update(sql=sql, name=name)
    return True


def _template_make() -> tuple[str, str]:
    """The replayable SQL of a freshly migrated private schema, and that schema's name."""
    pg_dump = _pg_dump_path()
    if pg_dump is None:
        raise FileNotFoundError("no pg_dump of the server's major version")
    name = f"tpl_{secrets.token_hex(8)}"
    try:
        with schema_context("public"), transaction.atomic():
            schemas.schema_create(name)
            schemas.schema_migrate(name)
        return _dump(pg_dump, name), name
    finally:
        with schema_context("public"), transaction.atomic():
            schemas.schema_drop(name)


def _dump(pg_dump: str, name: str) -> str:
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    command = [pg_dump, "--no-owner", "--no-privileges", "--inserts", "--schema", name]
    command += ["--dbname", settings["NAME"], "--username", settings["USER"] or "postgres"]
    if settings["HOST"]:
        command += ["--host", settings["HOST"]]
    if settings["PORT"]:
        command += ["--port", str(settings["PORT"])]
    dumped = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=DUMP_TIMEOUT_S, check=False
    )
    if dumped.returncode != 0:
        raise subprocess.SubprocessError(dumped.stderr.strip()[-500:])
    return _replayable(dumped.stdout, name)


def _replayable(dump: str, name: str) -> str:
    """The dump as statements for one cursor inside the caller's transaction: no psql
    meta-commands (`\\restrict`), no emptied search_path left on the connection, none of
    the dump's disabled timeouts, and its other settings (check_function_bodies, …) for
    the replay only."""
    lines, settings = [], []
    for line in dump.splitlines():
        if line.startswith("\\") or "set_config('search_path'" in line:
            continue
        if line.startswith("SET "):
            setting = line.split()[1]
            if setting.endswith("_timeout"):
                continue
            settings.append(setting)
            line = "SET LOCAL " + line[len("SET ") :]
        lines.append(line)
    lines += [f"SET LOCAL {setting} TO DEFAULT;" for setting in settings]
    sql = "\n".join(lines)
    if f"CREATE SCHEMA {name};" not in sql:
        raise subprocess.SubprocessError(f"the dump of {name} does not create it")
    return sql


def _pg_dump_path() -> str | None:
    """pg_dump of the server's major version (pg_dump refuses a newer server): Debian's
    versioned folder, the embedded server's own tools, or the one on PATH."""
    connection.ensure_connection()
    major = connection.pg_version // 10_000  # type: ignore[attr-defined]
    candidates = [DEBIAN_CLIENTS / str(major) / "bin" / "pg_dump"]
    embedded = _pgserver_bin()
    if embedded:
        candidates.append(embedded / "pg_dump")
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and _major_of(candidate) == major:
            return str(candidate)
    return None


def _pgserver_bin() -> Path | None:
    """The embedded server's own tools (development machines); production has none."""
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH)


def _major_of(pg_dump: Path) -> int | None:
    try:
        reply = subprocess.run(
            [str(pg_dump), "--version"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    # "pg_dump (PostgreSQL) 16.2 (Debian 16.2-1)"
    words = reply.stdout.split()
    version = words[2] if len(words) > 2 else ""
    return int(version.split(".")[0]) if version.split(".")[0].isdigit() else None
