"""The one scheduler process: queues the periodic jobs on time. Several may run (e.g. after a
deploy); a Redis lease makes exactly one of them the leader at a time.

Schedules are wall-clock, in UTC: a cron expression (croniter; `0 3 * * *` is 03:00 UTC every
day, whatever the licensees' time zones) or a short interval aligned to the clock (every 15 s
means at :00, :15, :30, :45). A job fires at its next slot after the scheduler starts or takes
over, never because a process started; each slot is claimed in Redis, so a fail-over between
two leaders cannot fire one slot twice.

The lease is taken with SET NX PX and renewed or released only by its holder, atomically in a
Lua script (a get followed by an expire could renew a lease another process took meanwhile).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from croniter import croniter
from django.conf import settings
from dramatiq import Actor

logger = logging.getLogger(__name__)

LEASE_KEY = "callrix:scheduler:leader"
SLOT_KEY = "callrix:scheduler:slot:"
LEASE_MS = 20_000

# Renew: only the holder's token extends the lease.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# Release: only the holder's token deletes it.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
# Claim a slot: set the job's last fired slot if this one is later; 1 when claimed.
_CLAIM = """
local last = tonumber(redis.call('get', KEYS[1]) or '0')
if tonumber(ARGV[1]) > last then
  redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""

_REFERENCE = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday 00:00 UTC, to measure a schedule


@dataclass
class Periodic:
    """One job: `cron` (a cron expression, UTC) or `every` (seconds, aligned to the clock)."""

    actor_path: str
    cron: str | None = None
    every: int | None = None
    next_at: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.every is None):
            raise ValueError("a periodic job has either a cron expression or an interval")
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ValueError(f"not a cron expression: {self.cron!r}")

    def slot_after(self, moment: float) -> float:
        """The first time (unix seconds) this job is due strictly after `moment`."""
        if self.every is not None:
            return (moment // self.every + 1) * self.every
        assert self.cron is not None
        start = datetime.fromtimestamp(moment, UTC)
        return float(croniter(self.cron, start).get_next(float))

    @property
    def every_seconds(self) -> int:
        """The nominal period (the gap between two slots from a fixed Monday)."""
        first = self.slot_after(_REFERENCE.timestamp())
        return int(self.slot_after(first) - first)


def _actor(path: str) -> Actor[[], object]:
    module, _, name = path.rpartition(".")
    actor: Actor[[], object] = getattr(__import__(module, fromlist=[name]), name)
    return actor


class Leader:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.token = secrets.token_hex(8)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take or renew the lease; False when another scheduler holds it."""
        if self.client.set(LEASE_KEY, self.token, nx=True, px=LEASE_MS):
            return True
        return bool(self._renew(keys=[LEASE_KEY], args=[self.token, LEASE_MS]))

    def release(self) -> None:
        self._release(keys=[LEASE_KEY], args=[self.token])


def _claim(client: redis.Redis, job: Periodic, slot: float) -> bool:
    keep = max(int(job.every_seconds) * 2, 3600)
    claimed = client.eval(_CLAIM, 1, SLOT_KEY + job.actor_path, str(slot), str(keep))
    return bool(claimed)


def run_all_now(jobs: list[Periodic]) -> int:
    """Queue every job once, now (an operator's `callrix scheduler --once`)."""
    for job in jobs:
        _actor(job.actor_path).send()
    return len(jobs)


def run(
    *,
    jobs: list[Periodic],
    tick_seconds: float = 1.0,
    clock: Callable[[], float] = time.time,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Queue due jobs while leading, until `stop()`; returns how many were queued. The jobs
    name their actors by dotted path, so the kernel imports no app."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=1)
    leader = Leader(client)
    queued = 0
    leading = False
    try:
        while not stop():
            try:
                leads = leader.hold()
            except redis.RedisError as error:  # Redis is down: nobody leads; try again
                logger.warning("scheduler cannot reach Redis: %s", error)
                leads = False
            now = clock()
            if leads and not leading:
                # Taking over (or starting): the next slots from now, none from the past.
                for job in jobs:
                    job.next_at = job.slot_after(now)
                logger.info("scheduler leads")
            leading = leads
            if leads:
                queued += _fire_due(client, jobs, now)
            time.sleep(tick_seconds)
    finally:
        try:
            if leading:
                leader.release()
        except redis.RedisError:
            pass
    return queued


def _fire_due(client: redis.Redis, jobs: list[Periodic], now: float) -> int:
    fired = 0
    for job in jobs:
        assert job.next_at is not None
        if now < job.next_at:
            continue
        slot = job.next_at
        job.next_at = job.slot_after(now)
        try:
            if not _claim(client, job, slot):
                continue  # another leader fired this slot already
            _actor(job.actor_path).send()
            fired += 1
        except redis.RedisError as error:
            logger.warning("%s not queued for %s: %s", job.actor_path, slot, error)
    return fired
