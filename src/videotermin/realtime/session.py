"""One socket session, written once: the inbox loop, the versioned ``hello``, the
takeover of a seat, the liveness tick, the re-check of authority, the ending.

Every endpoint (the citizen's ``/ws/v/<token>``, the advisor's ``/ws/call/<id>``,
the staff list's ``/ws/staff``) is a small subclass of :class:`Session` that
supplies only what differs: the channels it hears, how it reads its authority
again, what ``hello`` starts, and what its messages and events do.

Authority is event-driven. A session reads its authority (a link's
participation; a staff login and the appointment) when the socket opens and
keeps it in memory; client frames — ``ping``, relayed signals and chat — are
answered from memory, without the database. The authority is read again only
when something may have changed it:

- an event the product itself causes (a withdrawal, a cancellation, a
  reschedule, an admission or removal, a logout, a deactivation), heard on the
  bus by every instance;
- an instant known in advance (the window's end, the login's expiry): the
  subclass sets an alarm for it after each read (:meth:`Session.arm`);
- the slow safety re-read (``recheck_seconds``, about a minute, jittered), for an
  event lost on the way.

The order of things is the same for all of them, and it is the protocol's
(``docs/signaling.md``):

1. A client frame is answered: a broken frame with ``error``; ``hello`` once and
   in a version this server speaks; a message the endpoint never allows with
   ``not_allowed``; anything before ``hello`` with ``hello_required``; ``ping``
   with ``pong``; the rest by the subclass.
2. A session with a seat (:attr:`Session.seat`) claims it at ``hello``; a
   ``takeover`` from a newer connection of the seat ends this one (``replaced``).
3. A connection that has not said ``hello`` within ``hello_seconds`` is closed.
   A tick (the safety re-read, an alarm) lets the subclass read its authority
   again (before ``hello`` only if it asks to, :attr:`Session.checks_before_hello`).
4. Whatever ended the session, :meth:`Session.finished` runs once with the
   :class:`Ending`, so presence ends after the grace, at once, or not at all.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from datetime import datetime
from enum import Enum

from videotermin.bus.events import Takeover
from videotermin.realtime import takeover
from videotermin.realtime.alarms import Alarm
from videotermin.realtime.connection import (
    FromBus,
    FromClient,
    Gone,
    HelloDue,
    Inbox,
    JsonSocket,
    Notice,
    Tick,
)
from videotermin.realtime.protocol import (
    UNAVAILABLE_WHY,
    ClientMessage,
    CloseCode,
    ErrorCode,
    Ping,
    ProtocolError,
)
from videotermin.realtime.server_messages import (
    Error,
    Pong,
)
from videotermin.realtime.service import Realtime
from videotermin.store.db import unreachable

log = logging.getLogger(__name__)


class Ending(Enum):
    GONE = "gone"
    """The client left or fell silent: its presence ends after the grace."""
    CLOSED = "closed"
    """Refused, left, removed, ended or logged out: its presence ends at once."""
    REPLACED = "replaced"
    """A newer connection holds the seat now, and with it the presence."""


class Session:
    """The part every socket session shares; subclasses override the hooks below."""

    hello: type[ClientMessage]
    """The endpoint's ``hello`` message (it carries ``version``)."""
    kind: str
    """The endpoint's name in the metrics (``videotermin_websocket_connections{kind}``)."""
    forbidden: tuple[type[ClientMessage], ...] = ()
    """Messages the endpoint parses but never allows, answered ``not_allowed``."""
    forbidden_why = "not allowed on this connection"
    safety_ticks = True
    """Tick every ``recheck_seconds`` for the safety re-read; ``False`` for a session whose
    authority an instance-wide sweep re-reads (:mod:`videotermin.realtime.link_sweep`)."""
    checks_before_hello = False
    """Run :meth:`on_tick` before ``hello`` too (a session whose authority is already
    known when the socket opens, like the staff list's login)."""

    def __init__(self, realtime: Realtime, socket: JsonSocket) -> None:
        self.realtime = realtime
        self.socket = socket
        self.connection_id = uuid.uuid4().hex
        self.greeted_at: takeover.Order | None = None
        self.alarm: Alarm | None = None
        self.stack = contextlib.AsyncExitStack()
        self.inbox: Inbox | None = None

    @property
    def greeted(self) -> bool:
        return self.greeted_at is not None

    # --- hooks ----------------------------------------------------------------------

    @property
    def seat(self) -> str | None:
        """The bus channel of the seat this connection claims at ``hello``; ``None``
        for a session without a seat (any number of them may run at once)."""
        return None

    def channels(self) -> tuple[str, ...]:
        """The bus channels heard from the start (more may follow, :meth:`listen`)."""
        return ()

    async def started(self) -> None:
        """The inbox runs; hook for local sources such as presence listeners."""

    async def greet(self, hello: ClientMessage) -> Ending | None:
        """``hello`` was accepted (and the seat claimed): welcome the client."""
        raise NotImplementedError

    async def on_message(self, message: ClientMessage) -> Ending | None:
        """Any other message, from a greeted client, already authorised."""
        return None

    async def on_event(self, event: Notice) -> Ending | None:
        """An event from the bus or this instance's presence (takeovers excepted)."""
        return None

    async def on_tick(self) -> Ending | None:
        """Read the authority again: the safety re-read is due, or an alarm rang."""
        return None

    async def finished(self, ending: Ending) -> None:
        """The session is over; its socket is closed or gone."""

    # --- the loop -----------------------------------------------------------------------

    def arm(self, when: datetime) -> None:
        """Tick at ``when`` (app clock), the next instant the authority may end by itself;
        replaces the alarm set before, unless that one is still set for the same instant
        (so a session may arm after every read)."""
        inbox = self.inbox
        assert inbox is not None, "arm once the inbox runs (started() or later)"
        if self.alarm is not None:
            if self.alarm.when == when and not self.alarm.cancelled:
                return
            self.alarm.cancel()
        self.alarm = self.realtime.alarms.at(when, lambda: inbox.put(Tick()))

    async def listen(self, *channels: str) -> None:
        """Hear more bus channels until the session ends."""
        assert self.inbox is not None
        await self.stack.enter_async_context(self.realtime.ctx.bus.feed(self.inbox.sink, *channels))

    async def run(self) -> None:
        timing = self.realtime.timing
        ending = Ending.GONE
        connections = self.realtime.metrics.websocket_connections.labels(kind=self.kind)
        connections.inc()
        try:
            async with self.stack:
                self.inbox = await self.stack.enter_async_context(
                    Inbox(
                        self.socket,
                        idle_seconds=timing.idle_seconds,
                        tick_every=timing.recheck_period if self.safety_ticks else None,
                        frames=(timing.frames_burst, timing.frames_per_second),
                    )
                )
                self.inbox.hello_due_after(timing.hello_seconds)
                channels = (*self.channels(), *((self.seat,) if self.seat else ()))
                if channels:
                    await self.listen(*channels)
                await self.started()
                ending = await self._serve(self.inbox)
        finally:
            if self.alarm is not None:
                self.alarm.cancel()
            try:
                await self.finished(ending)
            finally:
                connections.dec()

    async def _serve(self, inbox: Inbox) -> Ending:
        while True:
            item = await inbox.get()
            if isinstance(item, Gone):
                if item.silent:
                    await self.socket.close(CloseCode.TIMEOUT)
                elif item.flooded:
                    await self.socket.close(CloseCode.RATE_LIMITED)
                return Ending.GONE
            try:
                ending = await self._on_item(item)
            except Exception as error:
                if not unreachable(error):
                    raise
                ending = await self._unreachable(item, error)
            if ending is not None:
                return ending

    async def _on_item(self, item: FromClient | FromBus | HelloDue | Tick) -> Ending | None:
        if isinstance(item, FromClient):
            return await self._on_frame(item)
        if isinstance(item, FromBus):
            return await self._on_notice(item.event)
        if isinstance(item, HelloDue):
            return await self._on_hello_due()
        return await self._on_tick()

    async def _unreachable(
        self, item: FromClient | FromBus | HelloDue | Tick, error: Exception
    ) -> Ending | None:
        """The database could not be read (stopped, restarting): the connection goes on
        with the authority it holds. A message that needed the database is answered
        ``unavailable`` (the client may send it again); a ``hello`` that could not be
        served closes with 1013, and the client reconnects. A re-read waits for the next."""
        log.warning("socket_database_unreachable kind=%s error=%s", self.kind, type(error).__name__)
        message = item.message if isinstance(item, FromClient) else None
        if message is None or isinstance(message, ProtocolError):
            return None
        await self.socket.refuse(ErrorCode.UNAVAILABLE, UNAVAILABLE_WHY, message.type)
        if not isinstance(message, self.hello):
            return None
        await self.socket.close(CloseCode.UNAVAILABLE)
        return Ending.GONE

    async def _on_frame(self, frame: FromClient) -> Ending | None:
        message = frame.message
        if isinstance(message, ProtocolError):
            await self.socket.send(Error.of(message))
        elif isinstance(message, self.hello):
            return await self._on_hello(message)
        elif isinstance(message, self.forbidden):
            await self.socket.refuse(ErrorCode.NOT_ALLOWED, self.forbidden_why, message.type)
        elif not self.greeted:
            await self.socket.refuse(ErrorCode.HELLO_REQUIRED, "say hello first", message.type)
        elif isinstance(message, Ping):
            await self.socket.send(Pong(id=message.id))
        else:
            return await self.on_message(message)
        return None

    async def _on_hello(self, hello: ClientMessage) -> Ending | None:
        if self.greeted:
            await self.socket.refuse(ErrorCode.ALREADY_GREETED, "hello was already said", "hello")
            return None
        if await self.socket.refuse_version(getattr(hello, "version", 0)):
            return Ending.CLOSED
        if self.seat is not None:
            self.greeted_at = await takeover.claim(
                self.realtime.ctx.bus, self.seat, self.connection_id
            )
        else:
            self.greeted_at = (time.time_ns(), self.connection_id)
        return await self.greet(hello)

    async def _on_notice(self, event: Notice) -> Ending | None:
        if isinstance(event, Takeover):
            if self.seat is None or not takeover.overtaken(event, self.greeted_at):
                return None
            await takeover.give_way(self.socket)
            return Ending.REPLACED
        return await self.on_event(event)

    async def _on_hello_due(self) -> Ending | None:
        if self.greeted:
            return None
        await self.socket.close(CloseCode.TIMEOUT)
        return Ending.GONE

    async def _on_tick(self) -> Ending | None:
        if not self.greeted and not self.checks_before_hello:
            return None
        return await self.on_tick()
