"""One WebSocket speaking the protocol, and the single queue its session works from.

A session (citizen or advisor) must react to three things: frames from its
client, events from the bus, and the passing of time. :class:`Inbox` turns
them into one queue, so the session handles one thing at a time from one task
— no two tasks ever send on the same socket, and no state is shared between
them. Frames are parsed here (:func:`videotermin.realtime.protocol.parse`), so a
session only ever sees valid messages or a :class:`ProtocolError` to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketState

from videotermin.bus.events import BusEvent, read
from videotermin.realtime.protocol import (
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    UNAVAILABLE_WHY,
    ClientMessage,
    CloseCode,
    ErrorCode,
    ProtocolError,
    parse,
)
from videotermin.realtime.server_messages import (
    Error,
    ServerMessage,
)
from videotermin.services.participation import LinkAuthority

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname.lower(), port


def same_origin(websocket: WebSocket, public_url: str) -> bool:
    """Is the page that opened the socket one of ours? Browsers always send ``Origin``
    on a WebSocket handshake, and cookies go along whatever the page, so a socket
    authorised by a cookie must check it (cross-site WebSocket hijacking). A link
    token needs no such check: whoever holds it may connect from anywhere."""
    origin = websocket.headers.get("origin")
    ours = _origin_key(public_url)
    return origin is not None and ours is not None and _origin_key(origin) == ours


# --- what a session receives -------------------------------------------------


@dataclass(frozen=True)
class FromClient:
    message: ClientMessage | ProtocolError


@dataclass(frozen=True)
class RosterChanged:
    """Presence of the session's appointment changed on this instance's board."""


@dataclass(frozen=True)
class PresenceChanged:
    """A participant of a watched appointment entered, left or changed their seat."""

    appointment_id: str
    participant_id: str
    entered: bool


@dataclass(frozen=True)
class LinkRead:
    """The safety sweep's read of the session's link (``None``: the link is gone)."""

    authority: LinkAuthority | None


Notice = BusEvent | RosterChanged | PresenceChanged | LinkRead


@dataclass(frozen=True)
class FromBus:
    """An event for the session: from the bus, or from this instance's presence board."""

    event: Notice


@dataclass(frozen=True)
class Tick:
    """Time to look again: the safety re-read is due, or an alarm rang (a known instant
    such as the window's end has come)."""


@dataclass(frozen=True)
class HelloDue:
    """The time for ``hello`` is up: a connection that has not said it is closed. Nothing
    is read again (a greeted connection has just read its authority)."""


@dataclass(frozen=True)
class Gone:
    """The client closed the connection, stayed silent past ``idle_seconds``, or sent
    frames faster than its budget allows."""

    silent: bool
    flooded: bool = False


Item = FromClient | FromBus | Tick | HelloDue | Gone


class JsonSocket:
    """Sends server messages and closes with a :class:`CloseCode`; a client that has
    gone away makes both quietly do nothing."""

    def __init__(self, websocket: WebSocket, accepted: Mapping[str, type[ClientMessage]]) -> None:
        self.websocket = websocket
        self.accepted = accepted

    @property
    def open(self) -> bool:
        return (
            self.websocket.client_state == WebSocketState.CONNECTED
            and self.websocket.application_state == WebSocketState.CONNECTED
        )

    async def send(self, message: ServerMessage) -> None:
        if not self.open:
            return
        with contextlib.suppress(Exception):  # the peer vanished mid-send
            await self.websocket.send_text(message.to_json())

    async def refuse(self, code: ErrorCode, message: str, ref: str) -> None:
        """Answer a message the connection may not act on; the connection stays open."""
        await self.send(Error(code=code, message=message, ref=ref))

    async def refuse_version(self, version: int) -> bool:
        """Close with 4426 when ``hello`` asks for a version this server does not speak;
        ``True`` when it did."""
        if version in SUPPORTED_VERSIONS:
            return False
        await self.refuse(
            ErrorCode.UNSUPPORTED_VERSION, f"this server speaks version {PROTOCOL_VERSION}", "hello"
        )
        await self.close(CloseCode.UNSUPPORTED_VERSION)
        return True

    async def close(self, code: CloseCode) -> None:
        if self.websocket.application_state == WebSocketState.DISCONNECTED:
            return
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=code.reason)

    async def receive(self) -> ClientMessage | ProtocolError | None:
        """The next frame, parsed; ``None`` when the client has closed."""
        try:
            message = await self.websocket.receive()
        except (RuntimeError, OSError):
            return None
        if message["type"] == "websocket.disconnect":
            return None
        text, data = message.get("text"), message.get("bytes")
        frame = text if text is not None else (data or b"")
        return parse(frame, self.accepted)


async def refuse_unavailable(websocket: WebSocket) -> None:
    """The database could not be read for this connection (stopped, restarting): say so
    with ``error`` ``unavailable`` and close with 1013, try again later — the client
    reconnects after its pause, as after any interruption."""
    if websocket.application_state == WebSocketState.CONNECTING:
        try:
            await websocket.accept()
        except (RuntimeError, OSError):
            return  # the client is gone already
    socket = JsonSocket(websocket, {})
    await socket.send(Error(code=ErrorCode.UNAVAILABLE, message=UNAVAILABLE_WHY, ref=None))
    await socket.close(CloseCode.UNAVAILABLE)


class _BusSink:
    """Bus events straight into a session's inbox, parsed on arrival (an event this
    version does not know is dropped); behind by ``limit`` items, it refuses more, as a
    subscription queue would, so one stuck session cannot hold up the others."""

    def __init__(self, queue: asyncio.Queue[Item], limit: int = 1000) -> None:
        self._queue = queue
        self._limit = limit

    def put_nowait(self, item: dict[str, Any], /) -> None:
        if self._queue.qsize() >= self._limit:
            raise asyncio.QueueFull
        event = read(item)
        if event is not None:
            self._queue.put_nowait(FromBus(event))


class Inbox:
    """Client frames, bus events and ticks, in arrival order, for one session.

    At most :data:`CLIENT_BACKLOG` client frames wait unhandled; then the inbox
    stops reading the socket, so a client is slowed down by TCP instead of filling
    the server's memory. A client sending more than ``frames`` allows (a burst, then
    a rate: a token bucket on the loop's clock) is flooding: the inbox stops reading it
    and the session closes it with 4429.

    Ticks come after ``tick_every()`` seconds, asked anew for each one (the safety
    re-read; none when ``None``), and when an alarm asks for one; :meth:`hello_due_after`
    sets the one :class:`HelloDue`.
    """

    CLIENT_BACKLOG = 8

    def __init__(
        self,
        socket: JsonSocket,
        *,
        idle_seconds: float,
        tick_every: Callable[[], float] | None,
        frames: tuple[float, float] = (300, 100),
    ) -> None:
        self._socket = socket
        self._idle = idle_seconds
        self._burst, self._refill = frames  # frames at once, frames per second after
        self._tick_every = tick_every
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._backlog = asyncio.Semaphore(self.CLIENT_BACKLOG)
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._reader: asyncio.Task[None] | None = None
        self._heard = 0.0
        self._silence: asyncio.TimerHandle | None = None
        self.sink = _BusSink(self._queue)
        """Where the bus puts the session's events (:meth:`Bus.feed`): parsed and queued
        as they arrive, with no task or queue per subscription."""

    async def __aenter__(self) -> Inbox:
        self._reader = self._start(self._read_client())
        if self._tick_every is not None:
            self._start(self._ticks(self._tick_every))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for timer in self._timers:
            timer.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def put(self, item: Item) -> None:
        """Add an item from elsewhere in this process (presence changes, alarms)."""
        self._queue.put_nowait(item)

    def hello_due_after(self, seconds: float) -> None:
        """A :class:`HelloDue` after ``seconds`` of real time."""
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(seconds, self._queue.put_nowait, HelloDue()))

    async def get(self) -> Item:
        item = await self._queue.get()
        if isinstance(item, FromClient):
            self._backlog.release()
        return item

    def _start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.append(task)
        return task

    async def _read_client(self) -> None:
        """Read frames until the client closes or falls silent. Silence is watched by one
        timer that moves only when it rings (:meth:`_check_silence`), not by a timeout
        around every read: a frame costs the time of day, not a timer."""
        loop = asyncio.get_running_loop()
        self._heard = loop.time()
        self._silence = loop.call_at(self._heard + self._idle, self._check_silence)
        budget = self._burst
        try:
            while True:
                await self._backlog.acquire()
                message = await self._socket.receive()
                now = loop.time()
                budget = min(self._burst, budget + (now - self._heard) * self._refill) - 1
                self._heard = now
                if message is None:
                    self._queue.put_nowait(Gone(silent=False))
                    return
                if budget < 0:  # a flood: nothing more is read, the session closes (4429)
                    self._queue.put_nowait(Gone(silent=False, flooded=True))
                    return
                self._queue.put_nowait(FromClient(message))
        finally:
            self._silence.cancel()

    def _check_silence(self) -> None:
        loop = asyncio.get_running_loop()
        if self._backlog.locked():  # not silent: the session has yet to catch up
            self._heard = loop.time()
        due = self._heard + self._idle
        if loop.time() < due:
            self._silence = loop.call_at(due, self._check_silence)
            return
        self._queue.put_nowait(Gone(silent=True))
        if self._reader is not None:
            self._reader.cancel()

    async def _ticks(self, every: Callable[[], float]) -> None:
        while True:
            await asyncio.sleep(every())
            self._queue.put_nowait(Tick())
