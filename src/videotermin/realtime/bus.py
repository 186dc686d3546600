"""The real-time bus: publish a small JSON event on a channel; every subscriber of that
channel, in this process or (with Redis) in any app instance, receives it.

Events carry ids and states only, never personal data: a receiver that needs
names reads them from the database with its own authority.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

from videotermin.settings import Settings

Event = dict[str, Any]


class Bus(Protocol):
    async def publish(self, channel: str, event: Event) -> None: ...

    def subscribe(
        self, *channels: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Event]]: ...

    async def close(self) -> None: ...


class MemoryBus:
    """The embedded default: one process, queues per subscriber."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, channel: str, event: Event) -> None:
        for queue in list(self._queues.get(channel, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        for channel in channels:
            self._queues[channel].add(queue)

        async def events() -> AsyncIterator[Event]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            for channel in channels:
                self._queues[channel].discard(queue)
                if not self._queues[channel]:
                    del self._queues[channel]

    async def close(self) -> None:
        self._queues.clear()


def bus_for(settings: Settings) -> Bus:
    """Redis pub/sub when ``VIDEOTERMIN_REDIS_URL`` is set, so app instances share rooms."""
    if settings.redis_url:
        from videotermin.realtime.redis_bus import RedisBus

        return RedisBus(settings.redis_url)
    return MemoryBus()
