"""The citizen's waiting room connection (``/ws/v/<token>``).

The journey rule (:mod:`videotermin.domain.journey`) decides, not the page:
it is checked when the socket opens, again on every message, on every event
about this participant or appointment, and every ``recheck_seconds`` — so a
closing window, a withdrawn consent or a cancellation ends the waiting within
seconds, with a ``state`` message and a close code that names the state.

A link holds one connection at a time. The connection that said ``hello``
last takes over: it announces itself on the participant's bus channel, and
every older connection of the link — on any app instance — is told
``replaced`` and closed. Presence (:mod:`videotermin.realtime.presence`)
starts with ``hello`` and ends with the connection: after the grace when the
client went away, at once when the journey no longer allows waiting.
"""

from __future__ import annotations

import time
import uuid
from enum import Enum

from starlette.websockets import WebSocket

from videotermin.context import AppContext
from videotermin.domain.journey import Journey
from videotermin.participation import Participation, participation_for_token
from videotermin.realtime.bus import Event
from videotermin.realtime.connection import FromBus, FromClient, Gone, Inbox, JsonSocket, Tick
from videotermin.realtime.events import appointment_channel
from videotermin.realtime.protocol import (
    CITIZEN_MESSAGES,
    JOURNEY_CLOSE,
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    AdvisorMessage,
    CitizenHello,
    CitizenWelcome,
    ClientMessage,
    CloseCode,
    Error,
    ErrorCode,
    Ping,
    Pong,
    ProtocolError,
    Replaced,
    StateChanged,
    WaitingMessageText,
)
from videotermin.realtime.service import Realtime


def participant_channel(participant_id: str) -> str:
    return f"participant:{participant_id}"


class Ending(Enum):
    GONE = "gone"
    """The client left or fell silent: presence ends after the grace."""
    REFUSED = "refused"
    """The journey no longer allows waiting: presence ends at once."""
    REPLACED = "replaced"
    """A newer connection of the link holds the presence now."""


async def _participation(ctx: AppContext, token: str) -> Participation | None:
    async with ctx.sessions() as db:
        return await participation_for_token(db, ctx, token)


def _message_of(participation: Participation) -> WaitingMessageText | None:
    appointment = participation.appointment
    if not appointment.waiting_message or appointment.waiting_message_at is None:
        return None
    return WaitingMessageText(text=appointment.waiting_message, at=appointment.waiting_message_at)


async def serve_citizen(realtime: Realtime, websocket: WebSocket, token: str) -> None:
    """Refuse with the reason as close code, or hold the connection until it ends."""
    participation = await _participation(realtime.ctx, token)
    await websocket.accept()
    socket = JsonSocket(websocket, CITIZEN_MESSAGES)
    if participation is None:
        await socket.close(CloseCode.UNKNOWN_LINK)
        return
    if not participation.may_enter:
        await socket.close(JOURNEY_CLOSE[participation.state])
        return
    await CitizenSession(realtime, socket, token, participation).run()


class CitizenSession:
    def __init__(
        self, realtime: Realtime, socket: JsonSocket, token: str, participation: Participation
    ) -> None:
        self.realtime = realtime
        self.socket = socket
        self.token = token
        self.participant_id = participation.participant.id
        self.appointment_id = participation.appointment.id
        self.connection_id = uuid.uuid4().hex
        self.greeted_at: tuple[int, str] | None = None
        self.opened = time.monotonic()
        self.shown: WaitingMessageText | None = None

    async def run(self) -> None:
        realtime = self.realtime
        ending = Ending.GONE
        try:
            async with (
                realtime.ctx.bus.subscribe(
                    appointment_channel(self.appointment_id),
                    participant_channel(self.participant_id),
                ) as events,
                Inbox(
                    self.socket,
                    idle_seconds=realtime.timing.idle_seconds,
                    tick_seconds=realtime.timing.recheck_seconds,
                ) as inbox,
            ):
                inbox.follow(events)
                ending = await self._serve(inbox)
        finally:
            if self.greeted_at is not None and ending != Ending.REPLACED:
                await realtime.presence.leave(
                    self.participant_id, self.connection_id, grace=ending == Ending.GONE
                )

    async def _serve(self, inbox: Inbox) -> Ending:
        while True:
            item = await inbox.get()
            if isinstance(item, Gone):
                if item.silent:
                    await self.socket.close(CloseCode.TIMEOUT)
                return Ending.GONE
            if isinstance(item, FromClient):
                ending = await self._on_client(item.message)
            elif isinstance(item, FromBus):
                ending = await self._on_event(item.event)
            else:
                assert isinstance(item, Tick)
                ending = await self._on_tick()
            if ending is not None:
                return ending

    # --- the rule, again and again -----------------------------------------------

    async def _check(self) -> Participation | Ending:
        """The participation now, or the ending when it no longer allows waiting."""
        participation = await _participation(self.realtime.ctx, self.token)
        if participation is None:
            await self.socket.close(CloseCode.UNKNOWN_LINK)
            return Ending.REFUSED
        if participation.state != Journey.WINDOW_OPEN:
            await self.socket.send(StateChanged(state=participation.state))
            await self.socket.close(JOURNEY_CLOSE[participation.state])
            return Ending.REFUSED
        return participation

    # --- client messages ---------------------------------------------------------

    async def _on_client(self, message: ClientMessage | ProtocolError) -> Ending | None:
        participation = await self._check()
        if isinstance(participation, Ending):
            return participation
        if isinstance(message, ProtocolError):
            await self.socket.send(Error.of(message))
        elif isinstance(message, CitizenHello):
            return await self._on_hello(message, participation)
        elif isinstance(message, Ping):
            if self.greeted_at is None:
                await self._refuse(ErrorCode.HELLO_REQUIRED, "say hello first", "ping")
            else:
                await self.socket.send(Pong(id=message.id))
        return None

    async def _on_hello(self, hello: CitizenHello, participation: Participation) -> Ending | None:
        if self.greeted_at is not None:
            await self._refuse(ErrorCode.ALREADY_GREETED, "hello was already said", "hello")
            return None
        if hello.version not in SUPPORTED_VERSIONS:
            await self._refuse(
                ErrorCode.UNSUPPORTED_VERSION,
                f"this server speaks version {PROTOCOL_VERSION}",
                "hello",
            )
            await self.socket.close(CloseCode.UNSUPPORTED_VERSION)
            return Ending.REFUSED
        self.greeted_at = (time.time_ns(), self.connection_id)
        await self.realtime.ctx.bus.publish(
            participant_channel(self.participant_id),
            {
                "type": "takeover",
                "connection_id": self.connection_id,
                "order": list(self.greeted_at),
            },
        )
        since = await self.realtime.presence.enter(
            self.appointment_id, self.participant_id, self.connection_id
        )
        self.shown = _message_of(participation)
        await self.socket.send(
            CitizenWelcome(
                version=PROTOCOL_VERSION,
                ping_interval=self.realtime.timing.ping_seconds,
                waiting_since=since,
                message=self.shown,
            )
        )
        return None

    async def _refuse(self, code: ErrorCode, message: str, ref: str) -> None:
        await self.socket.send(Error(code=code, message=message, ref=ref))

    # --- bus events and time -------------------------------------------------------

    async def _on_event(self, event: Event) -> Ending | None:
        kind = event.get("type")
        if kind == "takeover":
            return await self._on_takeover(event)
        if kind == "participant_changed" and event.get("participant_id") != self.participant_id:
            return None
        if kind in ("participant_changed", "appointment_changed", "waiting_message", "resync"):
            participation = await self._check()
            if isinstance(participation, Ending):
                return participation
            await self._show_message(participation)
        return None

    async def _on_takeover(self, event: Event) -> Ending | None:
        order = event.get("order")
        if self.greeted_at is None or not isinstance(order, list) or len(order) != 2:
            return None
        newer = (order[0], str(order[1]))
        if not isinstance(newer[0], int) or newer <= self.greeted_at:
            return None
        await self.socket.send(Replaced())
        await self.socket.close(CloseCode.REPLACED)
        return Ending.REPLACED

    async def _on_tick(self) -> Ending | None:
        if self.greeted_at is None:
            if time.monotonic() - self.opened > self.realtime.timing.hello_seconds:
                await self.socket.close(CloseCode.TIMEOUT)
                return Ending.GONE
            return None
        participation = await self._check()
        if isinstance(participation, Ending):
            return participation
        await self._show_message(participation)  # in case the bus lost the event
        return None

    async def _show_message(self, participation: Participation) -> None:
        current = _message_of(participation)
        if self.greeted_at is not None and current != self.shown:
            self.shown = current
            await self.socket.send(AdvisorMessage(message=current))
