"""The scheduler: UTC wall-clock schedules (cron expressions), one leader with an atomic
lease, each slot fired once whatever fails over, and nothing fired because a process started."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import redis
from django.conf import settings

from kernel import scheduler
from kernel.scheduler import Leader, Periodic

FIRED: list[str] = []


class _Job:
    """What the scheduler queues, recorded (a job's actor is only ever `.send()`-ed)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self) -> None:
        FIRED.append(self.name)


noon = _Job("noon")
quarter = _Job("quarter")


# Keys of this module's own: parallel workers share the machine's Redis, and a scheduler another
# test starts there must neither lead nor claim slots here.
LEASE_KEY = f"test:{uuid.uuid4().hex}:scheduler:leader"
SLOT_KEY = f"test:{uuid.uuid4().hex}:scheduler:slot:"


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setattr(scheduler, "LEASE_KEY", LEASE_KEY)
    monkeypatch.setattr(scheduler, "SLOT_KEY", SLOT_KEY)
    connection = redis.Redis.from_url(settings.REDIS_URL)
    keys = [LEASE_KEY, SLOT_KEY + f"{__name__}.noon", SLOT_KEY + f"{__name__}.quarter"]
    connection.delete(*keys)
    FIRED.clear()
    yield connection
    connection.delete(*keys)


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_schedules_are_utc_wall_clock():
    nightly = Periodic("x", cron="0 3 * * *")
    assert nightly.slot_after(_at("2026-12-06T11:58:07")) == _at("2026-12-07T03:00:00")
    assert nightly.every_seconds == 86_400
    every = Periodic("x", every=15)
    assert every.slot_after(_at("2026-12-06T11:58:07")) == _at("2026-12-06T11:58:15")
    with pytest.raises(ValueError):
        Periodic("x", cron="every night")
    with pytest.raises(ValueError):
        Periodic("x", cron="0 3 * * *", every=5)


def test_a_start_fires_nothing_and_each_slot_fires_once(client):
    ticks = iter(_at("2026-12-06T11:59:57") + second for second in range(0, 40))
    moments: list[float] = []

    def clock() -> float:
        moments.append(next(ticks))
        return moments[-1]

    jobs = [
        Periodic(f"{__name__}.noon", cron="0 12 * * *"),
        Periodic(f"{__name__}.quarter", every=15),
    ]
    queued = scheduler.run(jobs=jobs, tick_seconds=0, clock=clock, stop=lambda: len(moments) >= 40)
    # 11:59:57 .. 12:00:36: noon once at 12:00:00; the 15 s job at :00, :15 and :30 — and
    # nothing at the start, though the first tick was a few seconds before both.
    assert FIRED == ["noon", "quarter", "quarter", "quarter"]
    assert queued == 4
    assert client.get(LEASE_KEY) is None  # released when it stopped


def test_a_second_scheduler_taking_over_does_not_fire_a_slot_again(client):
    ticks = iter([_at("2026-12-06T12:00:00"), _at("2026-12-06T12:00:00")])
    job = [Periodic(f"{__name__}.noon", cron="0 12 * * *")]
    job[0].next_at = _at("2026-12-06T12:00:00")
    assert scheduler._fire_due(client, job, next(ticks)) == 1
    job[0].next_at = _at("2026-12-06T12:00:00")  # another leader that also saw noon come
    assert scheduler._fire_due(client, job, next(ticks)) == 0
    assert FIRED == ["noon"]


def test_one_leader_and_only_the_holder_renews_or_releases(client):
    first, second = Leader(client), Leader(client)
    assert first.hold()
    assert not second.hold()
    assert first.hold()  # renewed
    assert client.pttl(LEASE_KEY) > 15_000
    second.release()  # not its lease: nothing happens
    assert client.get(LEASE_KEY) == first.token.encode()
    first.release()
    assert second.hold()
