"""1,000 licensees on one PostgreSQL (docs/capacity.md): one new tenant migration applied to every
schema, measured at 100, 500 and 1,000 licensees (`BENCH migrate_1000_schemas_s`, goal ≤ 60 s),
and provisioning from the warm pool during a sign-up burst at 1,000 licensees
(`BENCH provisioning_burst_p99_ms`, goal ≤ 100 ms, the pool never empty).

The licensees are made fast from a schema template: one schema migrated the ordinary way, its
`pg_dump` (structure and rows, as INSERTs) replayed under each new name, and the licensee rows
inserted in bulk — what a real sign-up makes, minus the owner (no user is needed to migrate).
Each step adds one in-memory migration of the calls app (an `ALTER TABLE … ADD COLUMN`, like
the one the issue measured) and `tenants.migrate_parallel` applies it to every schema. The
burst provisions BURST licensees through `licensee_provision`, one every BURST_SPACING_S, while
a process of its own refills the pool, as the job worker does in production. At each step the
rehearsal's extra figures are measured too (`tests/benchmarks/rehearsal.py`: ledger verify of
all licensees, the nightly fan-out, backup and one licensee's restore), printed as `REHEARSAL`
lines before the BENCH lines. It all commits in
the run's own test database; its rows are deleted at the end and its schemas go with that
database.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import threading
import time

from django.db import connection, connections, migrations
from django.test import override_settings
from django_tenants.utils import schema_context

from tenants import migrate_parallel, schemas, services
from tenants.models import Domain, Licensee, SpareSchema
from tests.benchmarks import rehearsal
from tests.postgres_clients import client_bin_dir, database_url

STEPS = tuple(int(n) for n in os.environ.get("BENCH_LICENSEE_STEPS", "100,500,1000").split(","))
TEMPLATE = "zzbenchtpl"
PREFIX = "lic_bench_"
SPARE_PREFIX = "spare_bench_"  # the pool's own naming rule: spares start with "spare_"
WORKERS = 4
BURST = 100
BURST_SPACING_S = 0.6  # 100 sign-ups in 60 s
# A refill replays its process's template (tenants/schema_template.py, ~0.1 s a spare after
# the first, which migrates): it keeps up with 100 sign-ups a minute, so the pool is a small
# one (SPARE_SCHEMA_POOL_SIZE), filled beforehand, that must never run dry.
POOL_SIZE = 10


def _template_sql() -> str:
    schemas.schema_drop(TEMPLATE)
    schemas.schema_create(TEMPLATE)
    schemas.schema_migrate(TEMPLATE)
    folder = client_bin_dir()
    pg_dump = str(folder / "pg_dump") if folder else "pg_dump"
    dump = subprocess.run(
        [pg_dump, "--no-owner", "--no-privileges", "--inserts", "-n", TEMPLATE, _dsn()],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    # psql's meta-commands (`\restrict` in newer dumps) are not SQL, and the dump's empty
    # search_path would outlive it on this connection (every name in it is qualified).
    return "\n".join(
        line
        for line in dump.stdout.splitlines()
        if not line.startswith("\\") and "set_config('search_path'" not in line
    )


def _dsn() -> str:
    return database_url(connection.settings_dict["NAME"])


def _replay(sql: str, names: list[str]) -> None:
    """The template under each name, on WORKERS threads with a connection each."""
    chunks = [names[i::WORKERS] for i in range(WORKERS)]

    def build(chunk: list[str]) -> None:
        try:
            with connections["default"].cursor() as cursor:
                for name in chunk:
                    cursor.execute(sql.replace(TEMPLATE, name))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=build, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _make(sql: str, start: int, stop: int) -> float:
    """Licensees start..stop-1 from the template; seconds spent."""
    begin = time.perf_counter()
    names = [f"{PREFIX}{index:04d}" for index in range(start, stop)]
    _replay(sql, names)
    with schema_context("public"):
        Licensee.objects.bulk_create(
            Licensee(
                schema_name=name,
                slug=name.replace("_", "-"),
                display_name=f"Bench {name}",
                status=Licensee.Status.ACTIVE,
            )
            for name in names
        )
    made = Licensee.objects.filter(schema_name__in=names).count()
    assert made == len(names) and all(schemas.schema_is_current(n) for n in names[::97])
    return time.perf_counter() - begin


def _fill_pool(sql: str) -> None:
    names = [f"{SPARE_PREFIX}{index:03d}" for index in range(POOL_SIZE)]
    _replay(sql, names)
    with schema_context("public"):
        SpareSchema.objects.bulk_create(SpareSchema(schema_name=name) for name in names)


def _loader_with(step: int):
    loader = migrate_parallel.tenant_loader()
    [leaf] = [node for node in loader.graph.leaf_nodes() if node[0] == "calls"]
    name = f"9990_bench_{step}"
    migration = migrations.Migration(name, "calls")
    migration.dependencies = [leaf]
    migration.operations = [
        migrations.RunSQL(
            f"ALTER TABLE calls_call ADD COLUMN bench_note_{step} text",
            f"ALTER TABLE calls_call DROP COLUMN bench_note_{step}",
        )
    ]
    loader.graph.add_node(("calls", name), migration)
    loader.graph.add_dependency(migration, ("calls", name), leaf)
    return loader, name


# The refill as production runs it: `spare_pool_refill` in a job worker, a process apart from
# the web server's sign-ups (in one process its work would hold the interpreter lock the
# sign-ups wait for). One spare at a time, as the job builds them; SIGTERM stops it between
# two. A worker has refilled before a burst comes, so it has its template (its first refill
# migrates one schema, seconds at 1,000 licensees): made before it says "ready".
REFILL_PROCESS = """
import signal, sys, time
import django
django.setup()
from django.db import connections
from tenants import provisioning, schema_template, selectors
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
size = int(sys.argv[1])
assert schema_template.template_prepare(), schema_template._unavailable
print("ready", flush=True)
while not stopping:
    if selectors.spare_schema_count() < size:
        provisioning.spare_build()
    else:
        time.sleep(0.2)
connections.close_all()
"""


def _burst() -> tuple[list[float], int, list[Licensee]]:
    """BURST sign-ups from the pool while a process of its own refills it: latencies, the
    smallest pool seen just before a sign-up, and the licensees made."""
    env = {**os.environ, "DATABASE_URL": _dsn(), "DJANGO_SETTINGS_MODULE": "callrix.settings"}
    refiller = subprocess.Popen(
        [sys.executable, "-c", REFILL_PROCESS, str(POOL_SIZE)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    latencies, smallest, made = [], POOL_SIZE, []
    try:
        assert refiller.stdout is not None and refiller.stdout.readline() == "ready\n"
        # A web worker in a burst has signed licensees up before: the first sign-up of a
        # process (its imports, first statements and connections, ~0.3 s) is not the burst's.
        made.append(
            services.licensee_provision(
                slug="burst-warm", display_name="Burst warm-up", owner_email="owner@warm.test"
            ).licensee
        )
        for index in range(BURST):
            began = time.monotonic()
            smallest = min(smallest, SpareSchema.objects.count())
            start = time.perf_counter()
            result = services.licensee_provision(
                slug=f"burst-{index}",
                display_name=f"Burst {index}",
                owner_email=f"owner@burst-{index}.test",
            )
            latencies.append(time.perf_counter() - start)
            made.append(result.licensee)
            time.sleep(max(0.0, BURST_SPACING_S - (time.monotonic() - began)))
    finally:
        refiller.terminate()
        _, errors = refiller.communicate(timeout=300)
    assert refiller.returncode == 0, errors[-2000:]
    return latencies, smallest, made


def test_thousand_licensees(committed):
    made_count = 0
    curve: dict[int, tuple[float, float]] = {}
    figures = rehearsal.Figures()
    burst_made: list[Licensee] = []
    try:
        sql = _template_sql()
        for step in STEPS:
            build = _make(sql, made_count, step)
            per_schema_build = build / (step - made_count)
            made_count = step
            names = [f"{PREFIX}{i:04d}" for i in range(step)]
            loader, migration_name = _loader_with(step)
            start = time.perf_counter()
            run = migrate_parallel.schemas_migrate_parallel(names, workers=WORKERS, loader=loader)
            seconds = time.perf_counter() - start
            assert not run.failed, list(run.failed.items())[:3]
            assert sorted(run.migrated) == names
            with connection.cursor() as cursor:  # the last and a middle schema have it
                for name in (names[-1], names[len(names) // 2]):
                    cursor.execute(
                        f'SELECT count(*) FROM "{name}".django_migrations WHERE name = %s',
                        [migration_name],
                    )
                    assert cursor.fetchone() == (1,), name
            curve[step] = (seconds, per_schema_build)
            print(f"\n  ({step} licensees: new migration on all in {seconds:.1f} s)", flush=True)
            rehearsal.ledger_verify_all_licensees(figures, step)
            rehearsal.nightly_fanout(figures, step)
            last = names[-1]
            rehearsal.backup_and_restore(figures, step, last.replace("_", "-"), last)

        with override_settings(SPARE_SCHEMA_POOL_SIZE=POOL_SIZE):
            _fill_pool(sql)
            latencies, smallest, burst_made = _burst()
    finally:
        # The rows go; the ~1,100 schemas (a DROP … CASCADE each, minutes on a busy machine)
        # go with the run's test database, which pytest-django drops when the session ends.
        with schema_context("public"):
            Domain.objects.filter(tenant__slug__startswith="burst-").delete()
            Licensee.objects.filter(slug__startswith="burst-").delete()
            Licensee.objects.filter(schema_name__startswith=PREFIX).delete()
            SpareSchema.objects.filter(schema_name__startswith=SPARE_PREFIX).delete()

    # Nearest rank: of 100 sign-ups the 99th slowest (the 100th is the maximum).
    p99 = sorted(latencies)[math.ceil(0.99 * len(latencies)) - 1] * 1000
    print(f"\n{made_count} licensees on one PostgreSQL, made from a schema template:")
    print(
        f"  {'licensees':>9}  {'new migration, all schemas':>27}  {'per schema':>10}  build/schema"
    )
    for step, (seconds, build) in curve.items():
        print(
            f"  {step:>9}  {seconds:>25.1f} s  {seconds / step * 1000:>7.1f} ms  "
            f"{build * 1000:>9.0f} ms"
        )
    print(
        f"  sign-up burst at {made_count} licensees: {BURST} sign-ups, one every "
        f"{BURST_SPACING_S} s, pool {POOL_SIZE} refilled by a process: median "
        f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99:.0f} ms, smallest pool "
        f"{smallest}"
    )
    assert smallest > 0, "the pool ran dry during the burst"
    for line in figures.lines():
        print(line)
    at_most = max(curve)
    scaled = curve[at_most][0] * 1000 / at_most
    print(
        f"BENCH migrate_1000_schemas_s {scaled:.1f} goal 60"
        + ("" if at_most == 1000 else f"  (scaled from {at_most} schemas)")
    )
    print(f"BENCH provisioning_burst_p99_ms {p99:.0f} goal 100")
