"""The real-time bus: publish a small JSON event on a channel; every subscriber of that
channel, in this process or (with Redis) in any app instance, receives it.

Events carry ids and states only, never personal data: a receiver that needs
names reads them from the database with its own authority.

Delivery is at most once. A bus that may lose events (Redis during a
reconnect) tells each subscriber afterwards with a :data:`RESYNC` event, so
the subscriber can re-read what it shows instead of trusting a stale view.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

Payload = dict[str, Any]
"""An event as it travels: a JSON object (its typed form is :mod:`videotermin.bus.events`)."""
RESYNC: Payload = {"type": "resync"}

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Where a subscription's events go: an :class:`asyncio.Queue`, or anything that takes
    an event at once the same way (raising :class:`asyncio.QueueFull` when it is behind)."""

    def put_nowait(self, item: Payload, /) -> None: ...


class Bus(Protocol):
    async def publish(self, channel: str, event: Payload) -> None:
        """Deliver ``event`` to the channel's current subscribers everywhere."""
        ...

    def feed(self, sink: Sink, *channels: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Put the events of ``channels`` into ``sink`` as they arrive, with no task or
        queue of the subscription's own (a socket session's inbox takes them directly);
        active when the context is entered, like :meth:`subscribe`."""
        ...

    def subscribe(
        self, *channels: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Payload]]:
        """Receive the events of ``channels``; the subscription is active when the
        context is entered, so an event published after that is not missed."""
        ...

    async def ping(self) -> bool:
        """Whether the bus answers now (the readiness check); never raises."""
        ...

    async def close(self) -> None: ...


class Subscribers:
    """Local fan-out: the sinks (mostly queues) of this process's subscribers, by channel.

    A subscriber that does not keep up loses events rather than holding up the
    publisher (or every other subscriber); the drop is logged.
    """

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: dict[str, set[Sink]] = defaultdict(set)
        self._queue_size = queue_size

    def new_queue(self) -> asyncio.Queue[Payload]:
        return asyncio.Queue(self._queue_size)

    def add(self, queue: Sink, channels: tuple[str, ...]) -> list[str]:
        """Attach ``queue``; returns the channels nobody here listened to before."""
        fresh = [channel for channel in dict.fromkeys(channels) if not self._queues.get(channel)]
        for channel in channels:
            self._queues[channel].add(queue)
        return fresh

    def remove(self, queue: Sink, channels: tuple[str, ...]) -> list[str]:
        """Detach ``queue``; returns the channels nobody here listens to any more."""
        emptied = []
        for channel in dict.fromkeys(channels):
            queues = self._queues.get(channel)
            if queues is None:
                continue
            queues.discard(queue)
            if not queues:
                del self._queues[channel]
                emptied.append(channel)
        return emptied

    @property
    def channels(self) -> list[str]:
        return list(self._queues)

    def deliver(self, channel: str, event: Payload) -> None:
        for queue in list(self._queues.get(channel, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("bus event dropped reason=subscriber_behind")

    def deliver_to_all(self, event: Payload) -> None:
        for queue in {q for queues in self._queues.values() for q in queues}:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def clear(self) -> None:
        self._queues.clear()


async def drain(queue: asyncio.Queue[Payload]) -> AsyncIterator[Payload]:
    while True:
        yield await queue.get()


class MemoryBus:
    """The embedded default: one process, queues per subscriber.

    Events go through JSON as they would through Redis, so code that works on
    the embedded default cannot depend on Python objects Redis would not carry.
    """

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers = Subscribers(queue_size)

    async def publish(self, channel: str, event: Payload) -> None:
        self._subscribers.deliver(channel, json.loads(json.dumps(event)))

    @contextlib.asynccontextmanager
    async def feed(self, sink: Sink, *channels: str) -> AsyncIterator[None]:
        self._subscribers.add(sink, channels)
        try:
            yield
        finally:
            self._subscribers.remove(sink, channels)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[Payload]]:
        queue = self._subscribers.new_queue()
        async with self.feed(queue, *channels):
            yield drain(queue)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()
