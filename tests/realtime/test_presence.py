"""Presence: who waits since when, the same on every app instance.

Two :class:`PresenceService` on one bus stand for two app instances; the fake
clock measures the grace, real time drives the loops (tenths of seconds)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from conftest import NOW
from videotermin.bus.core import MemoryBus
from videotermin.domain.clock import FakeClock
from videotermin.realtime.presence import (
    Change,
    Entry,
    PresenceBoard,
    PresenceService,
    fingerprint,
)
from videotermin.realtime.timing import Timing

FAST = Timing(sweep_seconds=0.02, heartbeat_seconds=0.1, instance_ttl_seconds=0.5)


def entry(participant: str, connection: str, instance: str = "A", minutes: int = 0) -> Entry:
    return Entry(participant, "appt", connection, instance, NOW + timedelta(minutes=minutes))


# --- the board's rules ----------------------------------------------------------------


def test_entering_is_a_change_once_and_the_last_enter_wins() -> None:
    board = PresenceBoard()

    assert board.put(entry("p", "c1")) == [Change("appt", "p", entered=True)]
    assert board.put(entry("p", "c2", instance="B")) == [
        Change("appt", "p", entered=False, updated=True)
    ], "a takeover is no new arrival, only a new connection"
    assert board.put(entry("p", "c2", instance="B")) == [], "a repeat changes nothing"
    assert board.get("p") == entry("p", "c2", instance="B")


def test_only_the_holding_connection_can_end_the_presence() -> None:
    board = PresenceBoard()
    board.put(entry("p", "c1"))
    board.put(entry("p", "c2"))

    assert board.remove("p", "c1") == []
    assert board.remove("p", "c2") == [Change("appt", "p", entered=False)]
    assert board.get("p") is None


def test_a_heartbeat_is_the_whole_truth_of_its_instance_but_takes_nothing_from_others() -> None:
    board = PresenceBoard()
    board.put(entry("gone", "c1", instance="A"))
    board.put(entry("moved", "c2", instance="B"))

    changes = board.replace_instance(
        "A", [entry("new", "c3", instance="A"), entry("moved", "c0", instance="A")]
    )

    assert Change("appt", "gone", entered=False) in changes
    assert Change("appt", "new", entered=True) in changes
    assert board.get("moved") == entry("moved", "c2", instance="B")
    assert board.drop_instance("A") == [Change("appt", "new", entered=False)]


def test_entries_survive_the_bus_as_json() -> None:
    original = entry("p", "c", minutes=3)
    assert Entry.from_event(original.to_event(), "A") == original
    with pytest.raises(ValueError):
        Entry.from_event({**original.to_event(), "since": "2026-12-02T09:00:00"}, "A")


# --- two instances on one bus ---------------------------------------------------------------


@dataclass
class Instances:
    bus: MemoryBus
    clock: FakeClock
    first: PresenceService
    second: PresenceService


@pytest.fixture
async def instances() -> AsyncIterator[Instances]:
    bus, clock = MemoryBus(), FakeClock(NOW)
    pair = Instances(
        bus, clock, PresenceService(bus, clock, FAST), PresenceService(bus, clock, FAST)
    )
    await pair.first.start()
    await pair.second.start()
    try:
        yield pair
    finally:
        await pair.first.close()
        await pair.second.close()


async def settle(condition: object, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not callable(condition) or not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def test_the_other_instance_sees_who_waits_since_when(
    instances: Instances,
) -> None:
    first, second = instances.first, instances.second
    seen: list[Change] = []
    second.listen(seen.append)

    since = await first.enter("appt", "p", "c1")

    assert since == NOW
    await settle(lambda: second.waiting_since("p") == NOW)
    assert seen == [Change("appt", "p", entered=True)]


async def test_a_reconnect_on_the_other_instance_keeps_the_waiting_since(
    instances: Instances,
) -> None:
    first, second, clock = instances.first, instances.second, instances.clock
    await first.enter("appt", "p", "c1")
    await settle(lambda: second.waiting_since("p") is not None)
    await first.leave("p", "c1", grace=True)
    clock.advance(timedelta(seconds=5))

    since = await second.enter("appt", "p", "c2")
    clock.advance(timedelta(seconds=10))
    await asyncio.sleep(0.2)  # the first instance's grace ends, but c2 holds the place

    assert since == NOW
    assert first.waiting_since("p") == NOW and second.waiting_since("p") == NOW


async def test_the_waiting_ends_after_the_grace_on_the_app_clock(
    instances: Instances,
) -> None:
    first, second, clock = instances.first, instances.second, instances.clock
    await first.enter("appt", "p", "c1")
    await first.leave("p", "c1", grace=True)
    await asyncio.sleep(0.2)
    assert second.waiting_since("p") == NOW, "within the grace, still waiting"

    clock.advance(timedelta(seconds=10))

    await settle(lambda: second.waiting_since("p") is None and first.waiting_since("p") is None)


async def test_a_refused_connection_ends_the_waiting_at_once(
    instances: Instances,
) -> None:
    first, second = instances.first, instances.second
    await first.enter("appt", "p", "c1")
    await settle(lambda: second.waiting_since("p") is not None)

    await first.leave("p", "c1", grace=False)

    assert first.waiting_since("p") is None
    await settle(lambda: second.waiting_since("p") is None)


async def test_a_new_instance_learns_the_presence_at_once(
    instances: Instances,
) -> None:
    first, clock = instances.first, instances.clock
    await first.enter("appt", "p", "c1")
    late = PresenceService(instances.bus, clock, Timing(heartbeat_seconds=60))
    await late.start()
    try:
        await settle(lambda: late.waiting_since("p") == NOW, timeout=1.0)
    finally:
        await late.close()


async def test_the_presence_of_a_crashed_instance_expires(
    instances: Instances,
) -> None:
    first, second = instances.first, instances.second
    await first.enter("appt", "p", "c1")
    await settle(lambda: second.waiting_since("p") is not None)

    await first.close()  # stops heartbeats without a goodbye, like a crash

    await settle(lambda: second.waiting_since("p") is None, timeout=3.0)


# --- beats and the whole truth -------------------------------------------------------------


def test_the_board_answers_by_appointment_and_by_instance_after_any_change() -> None:
    board = PresenceBoard()
    board.put(Entry("p1", "appt-1", "c1", "A", NOW))
    board.put(Entry("p2", "appt-2", "c2", "A", NOW))
    board.put(Entry("p1", "appt-1", "c3", "B", NOW))  # taken over by instance B
    board.remove("p2", "c2")

    assert board.of_appointment("appt-1") == [Entry("p1", "appt-1", "c3", "B", NOW)]
    assert board.of_appointment("appt-2") == []
    assert board.of_instance("A") == []
    assert [e.participant_id for e in board.of_instance("B")] == ["p1"]
    assert board.held_by("B", in_call=False) == 1


def test_a_fingerprint_is_the_same_in_any_order_and_changes_with_any_seat() -> None:
    one, two = entry("p1", "c1"), entry("p2", "c2")
    assert fingerprint([one, two]) == fingerprint([two, one])
    assert fingerprint([one]) != fingerprint([one, two])
    assert fingerprint([one]) != fingerprint([entry("p1", "c1x")])
    assert fingerprint([one]) != fingerprint([replace(one, connected=False)])


async def test_a_beat_carries_no_entries_and_a_lost_enter_is_healed_by_asking(
    instances: Instances,
) -> None:
    """The other instance missed an enter (as if the bus had lost it): the next beat's
    fingerprint differs, it asks for the whole truth and has the entry after it."""
    first, second, bus = instances.first, instances.second, instances.bus
    beats: list[dict[str, object]] = []

    async def watch() -> None:
        async with bus.subscribe("presence") as events:
            async for data in events:
                if data.get("type") == "presence_heartbeat" and data.get("entries") is None:
                    beats.append(data)

    watcher = asyncio.create_task(watch())
    try:
        lost = Entry("p", "appt", "c1", first.instance_id, NOW)
        first.board.put(lost)  # held by the first instance, never announced

        await settle(lambda: second.waiting_since("p") == NOW, timeout=2.0)
        assert any(beat["held"] == 1 for beat in beats), "light beats say how many are held"
    finally:
        watcher.cancel()
