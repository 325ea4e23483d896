"""Tenant migrations for many schemas at once (docs/decisions/0010-parallel-tenant-migrations.md).

`django-tenants` migrates one schema after another and, for each, loads the migration graph
from disk and renders the project state anew: ~0.34 s a schema for a one-line `ALTER TABLE`,
almost all of it Python that is the same for every schema. Here the graph is loaded once, the
schemas are grouped by what they have applied (one query each), each group's plan and the
project state before each step are rendered once, and only the SQL runs per schema — on a few
threads, each with its own connection, one schema (one transaction per migration) at a time.
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from django.apps import apps
from django.conf import settings
from django.core.management.sql import emit_post_migrate_signal
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations import CreateModel
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState
from django_tenants.utils import get_app_label, quote_schema_name

from kernel.tenant_connection import connection
from tenants import schemas

if TYPE_CHECKING:
    from kernel.tenant_connection import TenantDatabaseWrapper

DEFAULT_WORKERS = 4


@dataclass
class MigrationRun:
    """What a parallel run did: schemas migrated and skipped, and any that failed (with the
    error), which are left at the last migration they completed."""

    migrated: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def tenant_loader() -> MigrationLoader:
    """The migration graph, read from disk once for a whole run."""
    return MigrationLoader(None, ignore_no_migrations=True)


def _tenant_labels() -> set[str]:
    labels = {get_app_label(app) for app in settings.TENANT_APPS}
    return {apps.get_app_config(label).label for label in labels}


def _applied(schema_name: str) -> frozenset[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'django_migrations'",
            [schema_name],
        )
        if cursor.fetchone() is None:
            return frozenset()
        cursor.execute(f"SELECT app, name FROM {quote_schema_name(schema_name)}.django_migrations")
        return frozenset(cursor.fetchall())


@dataclass
class _Plan:
    steps: list[tuple[Migration, ProjectState]]  # each migration with the state before it
    end_state: ProjectState

    @property
    def creates_models(self) -> bool:
        return any(
            isinstance(operation, CreateModel)
            for migration, _ in self.steps
            for operation in migration.operations
        )


def _plan_for(loader: MigrationLoader, applied: frozenset[tuple[str, str]]) -> _Plan:
    labels = _tenant_labels()
    wanted = [node for node in loader.graph.leaf_nodes() if node[0] in labels]
    order: list[tuple[str, str]] = []
    for target in wanted:
        for node in loader.graph.forwards_plan(target):
            if node not in applied and node not in order and node[0] in labels:
                order.append(node)
    done = [node for node in loader.graph.nodes if node in applied]
    state = loader.project_state(done, at_end=True) if done else ProjectState()
    steps = []
    for node in order:
        migration = loader.graph.nodes[node]
        steps.append((migration, state))
        state = migration.mutate_state(state, preserve=True)
    return _Plan(steps, state)


def _migrate_one(schema_name: str, plan: _Plan) -> None:
    db = cast("TenantDatabaseWrapper", connections["default"])  # this thread's own
    db.set_schema(schema_name)
    recorder = MigrationRecorder(db)
    for migration, state in plan.steps:
        with db.schema_editor(atomic=migration.atomic) as editor:
            migration.apply(state.clone(), editor)
            recorder.record_applied(migration.app_label, migration.name)
    if plan.creates_models:
        # New models get their content types and permissions in this schema, as `migrate`
        # would give them; a plan that only alters tables skips the signal's cost.
        emit_post_migrate_signal(0, False, db.alias, apps=plan.end_state.apps, plan=[])


def schemas_migrate_parallel(
    schema_names: Iterable[str],
    *,
    workers: int = DEFAULT_WORKERS,
    loader: MigrationLoader | None = None,
) -> MigrationRun:
    """Bring every schema up to the tenant apps' latest migrations, `workers` at a time."""
    loader = loader or tenant_loader()
    run = MigrationRun()
    groups: dict[frozenset[tuple[str, str]], list[str]] = defaultdict(list)
    for name in schema_names:
        groups[_applied(name)].append(name)
    previous = connection.schema_name
    lock = threading.Lock()
    jobs: queue.SimpleQueue[tuple[str, _Plan]] = queue.SimpleQueue()

    def drain() -> None:
        try:
            while True:
                try:
                    name, plan = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    _migrate_one(name, plan)
                except Exception as error:  # one schema's failure must not stop the others
                    with lock:
                        run.failed[name] = f"{type(error).__name__}: {error}"
                else:
                    with lock:
                        run.migrated.append(name)
        finally:
            connections.close_all()  # this thread's own connection

    try:
        for applied, names in groups.items():
            if not applied:
                # A bare schema takes the full `migrate` (post_migrate signals included), on
                # the caller's connection.
                for name in names:
                    schemas.schema_migrate(name)
                    run.migrated.append(name)
                continue
            plan = _plan_for(loader, applied)
            if not plan.steps:
                run.current += names
                continue
            for name in names:
                jobs.put((name, plan))
        threads = [threading.Thread(target=drain) for _ in range(max(1, workers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        connection.set_schema(previous)
    return run
