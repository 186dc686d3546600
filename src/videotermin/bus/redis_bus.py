"""The bus across app instances: Redis pub/sub (redis-py asyncio).

One Redis connection per app instance carries every subscription: a reader
task dispatches incoming messages to the local subscribers' sinks
(:class:`~videotermin.bus.core.Subscribers`), and a channel is subscribed
at Redis only while someone here listens to it. So a thousand waiting citizens
cost one connection, not a thousand.

``subscribe`` returns only after Redis confirmed the subscription, so an event
published afterwards cannot be missed. When the connection breaks, the reader
reconnects with backoff, subscribes everything again and hands every local
subscriber a ``resync`` event: whatever was published in between is lost, and
the subscribers re-read their state. A silent connection is noticed by the
reader's own pings.

Channels are prefixed (``<prefix>:<channel>``) so several deployments, or
parallel test runs, can share one Redis server; pub/sub ignores the database
number in the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from videotermin.bus.core import RESYNC, Payload, Sink, Subscribers, drain

log = logging.getLogger(__name__)

CONFIRM_SECONDS = 5.0
PING_SECONDS = 5.0
SILENT_SECONDS = 15.0
PING_TIMEOUT_SECONDS = 2.0
BACKOFF_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


class BusUnavailable(ConnectionError):
    """Redis did not confirm a subscription in time."""


class RedisBus:
    def __init__(
        self, url: str, *, channel_prefix: str = "videotermin", queue_size: int = 1000
    ) -> None:
        # Named, so an operator's CLIENT LIST shows which connections are whose.
        self._redis = Redis.from_url(url, client_name=f"{channel_prefix}:publish")
        # The reader handles its own reconnects (and tells subscribers); redis-py's
        # silent retries would hide a gap in delivery.
        self._listener = Redis.from_url(
            url,
            client_name=f"{channel_prefix}:listen",
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=2,
            socket_keepalive=True,
        )
        self._prefix = f"{channel_prefix}:"
        self._subscribers = Subscribers(queue_size)
        self._changes = asyncio.Lock()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmations: dict[str, list[asyncio.Future[None]]] = {}
        self._closed = False

    async def publish(self, channel: str, event: Payload) -> None:
        await self._redis.publish(self._prefix + channel, json.dumps(event, separators=(",", ":")))

    @contextlib.asynccontextmanager
    async def feed(self, sink: Sink, *channels: str) -> AsyncIterator[None]:
        try:
            await self._attach(sink, channels)
            yield
        finally:
            await self._detach(sink, channels)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[Payload]]:
        queue = self._subscribers.new_queue()
        async with self.feed(queue, *channels):
            yield drain(queue)

    async def ping(self, timeout: float = PING_TIMEOUT_SECONDS) -> bool:
        """A PING on the publishing connection, answered within ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                return bool(await self._redis.ping())
        except (RedisError, OSError, TimeoutError):
            return False

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._drop_pubsub()
        for futures in self._confirmations.values():
            for future in futures:
                future.cancel()
        self._confirmations.clear()
        self._subscribers.clear()
        await self._listener.aclose()
        await self._redis.aclose()

    # --- subscriptions ---------------------------------------------------------

    async def _attach(self, queue: Sink, channels: tuple[str, ...]) -> None:
        if self._closed:
            raise BusUnavailable("the bus is closed")
        async with self._changes:
            fresh = self._subscribers.add(queue, channels)
            waiting = [
                self._expect_confirmation(channel)
                for channel in dict.fromkeys(channels)
                if channel in fresh or self._prefix + channel in self._confirmations
            ]
            if self._reader is None:
                self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")
            elif fresh and self._pubsub is not None:
                # Without a pubsub the reader is reconnecting and subscribes these itself.
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.subscribe(*self._full(fresh))
        try:
            async with asyncio.timeout(CONFIRM_SECONDS):
                await asyncio.gather(*waiting)
        except TimeoutError:
            raise BusUnavailable("Redis did not confirm the subscription") from None

    async def _detach(self, queue: Sink, channels: tuple[str, ...]) -> None:
        async with self._changes:
            emptied = self._subscribers.remove(queue, channels)
            if emptied and self._pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(*self._full(emptied))

    def _expect_confirmation(self, channel: str) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        self._confirmations.setdefault(self._prefix + channel, []).append(future)
        return future

    def _confirm(self, full_channel: str) -> None:
        for future in self._confirmations.pop(full_channel, []):
            if not future.done():
                future.set_result(None)

    def _full(self, channels: list[str]) -> list[str]:
        return [self._prefix + channel for channel in channels]

    # --- the reader --------------------------------------------------------------

    async def _read(self) -> None:
        failures = 0
        while not self._closed:
            try:
                await self._connect()
                if failures:
                    log.info("bus reconnected backend=redis")
                    self._subscribers.deliver_to_all(RESYNC)
                failures = 0
                await self._listen()
            except Exception as error:  # the reader must outlive any failure
                log.warning("bus connection lost backend=redis error=%s", type(error).__name__)
                await self._drop_pubsub()
                await asyncio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)])
                failures += 1

    async def _connect(self) -> None:
        """A fresh pubsub subscribed to every channel someone here listens to."""
        pubsub = self._listener.pubsub()
        async with self._changes:
            await pubsub.connect()
            channels = self._full(self._subscribers.channels)
            if channels:
                await pubsub.subscribe(*channels)
            self._pubsub = pubsub

    async def _listen(self) -> None:
        assert self._pubsub is not None
        loop = asyncio.get_running_loop()
        heard = pinged = loop.time()
        while True:
            message = await self._pubsub.get_message(timeout=1.0)
            now = loop.time()
            if message is not None:
                heard = now
                self._dispatch(message)
            if now - heard > SILENT_SECONDS:
                raise ConnectionError("Redis stopped answering")
            if now - pinged > PING_SECONDS:
                pinged = now
                await self._pubsub.ping()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = _text(message.get("channel"))
        if kind == "subscribe":
            self._confirm(channel)
        elif kind == "message" and channel.startswith(self._prefix):
            try:
                event = json.loads(message["data"])
            except (ValueError, TypeError):
                log.warning("bus event ignored reason=not_json")
                return
            if isinstance(event, dict):
                self._subscribers.deliver(channel.removeprefix(self._prefix), event)

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""
