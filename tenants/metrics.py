"""Prometheus metrics, computed from PostgreSQL and Redis when scraped.

Reading state at scrape time (not counting in process memory) makes every web replica and
gunicorn worker give the same answer. Labels never name a person: licensee status, domain
state and job queue names only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import dramatiq
from django.core.cache import cache
from django.db import connection
from dramatiq.brokers.redis import RedisBroker
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tenants import selectors
from tenants.health import database_answers, redis_answers
from tenants.models import Licensee

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class CallrixCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        database, redis = database_answers(connection), redis_answers(cache)
        up = GaugeMetricFamily(
            "callrix_dependency_up", "1 if the dependency answers", labels=["dependency"]
        )
        up.add_metric(["postgresql"], int(database))
        up.add_metric(["redis"], int(redis))
        yield up
        if database:
            yield from self._platform()
        if redis:
            yield self._job_queues()

    @staticmethod
    def _platform() -> Iterator[Metric]:
        licensees = GaugeMetricFamily("callrix_licensees", "Licensees by status", labels=["status"])
        counts = selectors.licensee_counts_by_status()
        for status in Licensee.Status.values:
            licensees.add_metric([status], counts.get(status, 0))
        yield licensees
        domains = GaugeMetricFamily(
            "callrix_custom_domains", "Licensees' own domains", labels=["state"]
        )
        for state, count in selectors.custom_domain_counts().items():
            domains.add_metric([state], count)
        yield domains
        yield GaugeMetricFamily(
            "callrix_spare_schemas",
            "Ready tenant schemas in the warm pool",
            value=selectors.spare_schema_count(),
        )

    @staticmethod
    def _job_queues() -> Metric:
        queues = GaugeMetricFamily(
            "callrix_job_messages",
            "dramatiq messages by queue: waiting, delayed (retries, ETAs) and dead-lettered",
            labels=["queue", "state"],
        )
        broker = cast(RedisBroker, dramatiq.get_broker())  # settings.DRAMATIQ_BROKER
        client, namespace = broker.client, broker.namespace
        for queue in sorted(broker.get_declared_queues()):
            prefix = f"{namespace}:{queue}"
            queues.add_metric([queue, "waiting"], client.llen(prefix))
            queues.add_metric([queue, "delayed"], client.llen(f"{prefix}.DQ"))
            queues.add_metric([queue, "dead"], client.zcard(f"{prefix}.XQ"))
        return queues


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CallrixCollector())
    return generate_latest(registry)
