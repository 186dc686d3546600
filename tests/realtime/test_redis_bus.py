"""The Redis bus against the real Redis at 127.0.0.1:6379: delivery between instances,
channel prefixes, subscriptions that are live when ``subscribe`` returns, and recovery
after the connection is killed. Without Redis: skipped loudly, or failed under CI."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from conftest import skip_or_fail
from videotermin.bus.core import RESYNC, MemoryBus, Payload
from videotermin.bus.factory import bus_for
from videotermin.bus.redis_bus import RedisBus
from videotermin.settings import Settings

REDIS_URL = os.environ.get("VIDEOTERMIN_TEST_REDIS", "redis://127.0.0.1:6379/0")


async def next_event(events: AsyncIterator[Payload], timeout: float = 5) -> Payload:
    return await asyncio.wait_for(anext(events), timeout)


@pytest.fixture
async def prefix() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {error!r}")
    finally:
        await client.aclose()
    return f"vt-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def buses(prefix: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    first = RedisBus(REDIS_URL, channel_prefix=prefix)
    second = RedisBus(REDIS_URL, channel_prefix=prefix)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_an_event_reaches_the_subscribers_of_its_channel_on_every_instance(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    first, second = buses
    async with first.subscribe("a", "b") as mine, second.subscribe("a") as theirs:
        await second.publish("a", {"type": "x", "n": 1})
        await second.publish("c", {"type": "x", "n": 2})
        await first.publish("b", {"type": "x", "n": 3})

        assert await next_event(mine) == {"type": "x", "n": 1}
        assert await next_event(mine) == {"type": "x", "n": 3}
        assert await next_event(theirs) == {"type": "x", "n": 1}
        with pytest.raises(TimeoutError):
            await next_event(theirs, timeout=0.3)


async def test_a_subscription_is_live_when_subscribe_returns(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    first, second = buses
    for attempt in range(20):
        async with first.subscribe(f"fresh-{attempt}") as events:
            await second.publish(f"fresh-{attempt}", {"n": attempt})
            assert await next_event(events) == {"n": attempt}


async def test_deployments_with_other_prefixes_do_not_hear_each_other(
    buses: tuple[RedisBus, RedisBus], prefix: str
) -> None:
    first, _second = buses
    other = RedisBus(REDIS_URL, channel_prefix=prefix + "-other")
    try:
        async with first.subscribe("a") as events:
            await other.publish("a", {"from": "other"})
            await first.publish("a", {"from": "same"})
            assert await next_event(events) == {"from": "same"}
    finally:
        await other.close()


async def test_the_configured_prefix_separates_deployments(prefix: str) -> None:
    """Two deployments on one Redis, told apart by VIDEOTERMIN_REDIS_CHANNEL_PREFIX only."""

    def instance(channel_prefix: str) -> Any:
        return bus_for(Settings(redis_url=REDIS_URL, redis_channel_prefix=channel_prefix))

    north, north_too, south = instance(prefix + "-n"), instance(prefix + "-n"), instance(prefix)
    try:
        async with north.subscribe("appointment:1") as events:
            await south.publish("appointment:1", {"from": "south"})
            await north_too.publish("appointment:1", {"from": "north"})
            assert await next_event(events) == {"from": "north"}
            with pytest.raises(TimeoutError):
                await next_event(events, timeout=0.3)
    finally:
        for bus in (north, north_too, south):
            await bus.close()


async def test_leaving_a_subscription_stops_delivery_for_it_only(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    first, second = buses
    async with first.subscribe("a") as staying:
        async with first.subscribe("a") as leaving:
            await second.publish("a", {"n": 1})
            assert await next_event(leaving) == {"n": 1}
        await second.publish("a", {"n": 2})
        assert await next_event(staying) == {"n": 1}
        assert await next_event(staying) == {"n": 2}


async def kill_listener(prefix: str) -> None:
    """Cut the bus's subscriber connection, found by its client name."""
    admin = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        clients = await admin.client_list(_type="pubsub")
        victims = [c["addr"] for c in clients if c.get("name") == f"{prefix}:listen"]
        assert victims, "the listener is connected"
        for addr in victims:
            await admin.client_kill(addr)
    finally:
        await admin.aclose()


async def test_after_a_lost_connection_subscribers_resync_and_delivery_goes_on(
    buses: tuple[RedisBus, RedisBus], prefix: str
) -> None:
    first, second = buses
    async with first.subscribe("a") as events:
        await kill_listener(prefix)

        assert await next_event(events, timeout=10) == RESYNC
        await second.publish("a", {"after": "reconnect"})
        assert await next_event(events) == {"after": "reconnect"}


async def test_the_memory_bus_carries_only_what_json_carries() -> None:
    bus = MemoryBus()
    async with bus.subscribe("a") as events:
        await bus.publish("a", {"order": (1, "x")})
        assert await next_event(events) == {"order": [1, "x"]}
        with pytest.raises(TypeError):
            await bus.publish("a", {"when": object()})
