"""Two app instances on one PostgreSQL database and one Redis, as in production: the
fixtures the two-instance tests share (import them into the test module)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from waiting_helpers import booking, channel_prefix

from conftest import LiveServer, skip_or_fail, start_server
from videotermin.bus.redis_bus import RedisBus
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings

__all__ = ["booking"]
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Instances:
    a: LiveServer
    b: LiveServer


async def require_redis() -> None:
    """Skip loudly (fail under CI) unless the Redis of the tests answers."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {error!r}")
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix() -> str:
    await require_redis()
    return channel_prefix()


@pytest.fixture
def instances(
    fast_timing: object, settings: Settings, clock: FakeClock, redis_prefix: str
) -> Iterator[Instances]:
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    a = start_server(shared, clock, RedisBus(REDIS_URL, channel_prefix=redis_prefix))
    b = start_server(shared, clock, RedisBus(REDIS_URL, channel_prefix=redis_prefix))
    try:
        yield Instances(a, b)
    finally:
        a.stop()
        b.stop()
