"""The one scheduler process: queues the periodic jobs on time. Several may run (e.g. after a
deploy); a Redis lease makes exactly one of them the leader at a time."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from dramatiq import Actor

logger = logging.getLogger(__name__)

LEASE_KEY = "callrix:scheduler:leader"
LEASE_SECONDS = 20


@dataclass
class Periodic:
    every_seconds: int
    actor_path: str
    due_at: float = 0.0


def _actor(path: str) -> Actor[[], object]:
    module, _, name = path.rpartition(".")
    actor: Actor[[], object] = getattr(__import__(module, fromlist=[name]), name)
    return actor


class Leader:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.token = secrets.token_hex(8)

    def hold(self) -> bool:
        """Take or renew the lease; False when another scheduler holds it."""
        if self.client.set(LEASE_KEY, self.token, nx=True, ex=LEASE_SECONDS):
            return True
        if self.client.get(LEASE_KEY) == self.token.encode():
            self.client.expire(LEASE_KEY, LEASE_SECONDS)
            return True
        return False


def run(*, jobs: list[Periodic], once: bool = False, tick_seconds: float = 1.0) -> int:
    """Queue due jobs while leading. Returns how many were queued (for `once`). The jobs
    name their actors by dotted path, so the kernel imports no app."""
    leader = Leader(redis.Redis.from_url(settings.REDIS_URL))
    queued = 0
    while True:
        if leader.hold():
            now = time.monotonic()
            for job in jobs:
                if now >= job.due_at:
                    _actor(job.actor_path).send()
                    job.due_at = now + job.every_seconds
                    queued += 1
        if once:
            return queued
        time.sleep(tick_seconds)
