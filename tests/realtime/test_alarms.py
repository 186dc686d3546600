"""Alarms at instants known in advance (a window's end, a login's expiry), on the app's
clock: they ring once that clock has reached their instant — also when a fake clock is
moved past it — never before, never twice, and not at all once cancelled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from videotermin.domain.clock import FakeClock
from videotermin.realtime.alarms import Alarms

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_an_alarm_rings_once_its_instant_has_come_and_only_once() -> None:
    clock = FakeClock(T0)
    alarms = Alarms(clock, sweep_seconds=1.0)
    rang: list[str] = []
    alarms.at(T0 + timedelta(minutes=30), lambda: rang.append("end"))

    clock.advance(timedelta(minutes=29, seconds=59))
    assert alarms.ring_due() == 0 and rang == []
    clock.advance(timedelta(seconds=1))
    assert alarms.ring_due() == 1 and rang == ["end"]
    clock.advance(timedelta(hours=1))
    assert alarms.ring_due() == 0 and rang == ["end"]


def test_alarms_ring_in_the_order_of_their_instants() -> None:
    clock = FakeClock(T0)
    alarms = Alarms(clock, sweep_seconds=1.0)
    rang: list[int] = []
    for minutes in (30, 10, 20):
        alarms.at(T0 + timedelta(minutes=minutes), lambda m=minutes: rang.append(m))
    clock.advance(timedelta(hours=1))
    alarms.ring_due()
    assert rang == [10, 20, 30]


def test_a_cancelled_alarm_never_rings_and_leaves_the_heap() -> None:
    clock = FakeClock(T0)
    alarms = Alarms(clock, sweep_seconds=1.0)
    rang: list[int] = []
    kept = alarms.at(T0 + timedelta(minutes=5), lambda: rang.append(1))
    for n in range(200):  # a session re-arming after every read
        alarms.at(T0 + timedelta(hours=1, minutes=n), lambda: rang.append(2)).cancel()
    alarms.ring_due()
    assert len(alarms) == 1, "cancelled alarms are compacted once they are most of the heap"

    clock.advance(timedelta(days=1))
    alarms.ring_due()
    assert rang == [1]
    kept.cancel()  # after ringing: counts nothing
    assert alarms.cancelled == 0


def test_one_failing_alarm_does_not_keep_the_others_from_ringing() -> None:
    clock = FakeClock(T0)
    alarms = Alarms(clock, sweep_seconds=1.0)
    rang: list[str] = []

    def broken() -> None:
        raise RuntimeError("a session in trouble")

    alarms.at(T0, broken)
    alarms.at(T0, lambda: rang.append("next"))
    assert alarms.ring_due() == 2 and rang == ["next"]


async def test_the_sweep_rings_a_fake_clock_moved_past_the_instant() -> None:
    clock = FakeClock(T0)
    alarms = Alarms(clock, sweep_seconds=0.01)
    rang = asyncio.Event()
    alarms.at(T0 + timedelta(minutes=30), rang.set)
    await alarms.start()
    try:
        await asyncio.sleep(0.05)
        assert not rang.is_set()
        clock.advance(timedelta(minutes=30))
        await asyncio.wait_for(rang.wait(), timeout=2)
    finally:
        await alarms.close()
