"""The citizen's waiting room connection (``/ws/v/<token>``).

The journey rule (:mod:`videotermin.domain.journey`) decides, not the page:
it is checked when the socket opens, again for every message (by a read that
began after the message arrived, see ``_check_for``), on every event
about this participant or appointment, and every ``recheck_seconds`` — so a
closing window, a withdrawn consent or a cancellation ends the waiting within
seconds, with a ``state`` message and a close code that names the state.

A link holds one connection at a time. The connection that said ``hello``
last takes over: it announces itself on the participant's bus channel, and
every older connection of the link — on any app instance — is told
``replaced`` and closed. Presence (:mod:`videotermin.realtime.presence`)
starts with ``hello`` and ends with the connection: after the grace when the
client went away, at once when the journey no longer allows waiting.

The same connection carries on into the call (:mod:`videotermin.realtime.call`):
when the advisor admits the participant (an event on the link's channel, or
found on the periodic check), or at ``hello`` when the participant is admitted
already (a reload). Until then every call message is refused — a connection
that was not admitted gets no peer list, no signal, no chat and no ICE servers —
and ``admit``/``remove``/``end`` are refused to a citizen whatever their state.
A removal (``removed``, 4417) and hanging up (``leave``, 4418) end the
connection and the admission.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from enum import Enum

from starlette.websockets import WebSocket

from videotermin.bus.core import Event
from videotermin.bus.events import appointment_channel, seat_channel
from videotermin.context import AppContext
from videotermin.domain.appointments import shown_name
from videotermin.domain.call import peer_id, rejoins
from videotermin.domain.journey import Journey
from videotermin.realtime import takeover
from videotermin.realtime.call import InCall, Member, follow_presence
from videotermin.realtime.connection import (
    FromBus,
    FromClient,
    Gone,
    Inbox,
    JsonSocket,
    Recheck,
    Tick,
)
from videotermin.realtime.protocol import (
    CITIZEN_MESSAGES,
    JOURNEY_CLOSE,
    PROTOCOL_VERSION,
    Admit,
    AdvisorMessage,
    Chat,
    CitizenHello,
    CitizenWelcome,
    CloseCode,
    End,
    Error,
    ErrorCode,
    Leave,
    Media,
    Ping,
    Pong,
    ProtocolError,
    Remove,
    Removed,
    Signal,
    StateChanged,
    WaitingMessageText,
)
from videotermin.realtime.service import Realtime
from videotermin.services import admission
from videotermin.services.participation import Participation, participation_for_token


class Ending(Enum):
    GONE = "gone"
    """The client left or fell silent: presence ends after the grace."""
    REFUSED = "refused"
    """The journey no longer allows waiting: presence ends at once."""
    REPLACED = "replaced"
    """A newer connection of the link holds the presence now."""
    LEFT = "left"
    """Removed from the call or hung up: presence ends at once, admission is over."""


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
        self.call: InCall | None = None
        self._stack = contextlib.AsyncExitStack()
        self._inbox: Inbox | None = None
        self._recheck = Recheck()
        self._participation: Participation | None = None
        """The last participation read that let the connection go on."""

    async def run(self) -> None:
        realtime = self.realtime
        ending = Ending.GONE
        try:
            async with self._stack:
                events = await self._stack.enter_async_context(
                    realtime.ctx.bus.subscribe(
                        appointment_channel(self.appointment_id),
                        seat_channel(self.participant_id),
                    )
                )
                inbox = await self._stack.enter_async_context(
                    Inbox(
                        self.socket,
                        idle_seconds=realtime.timing.idle_seconds,
                        tick_seconds=realtime.timing.recheck_seconds,
                    )
                )
                self._inbox = inbox
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
                ending = await self._on_client(item)
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
        begun = Recheck.begin(self._inbox)
        participation = await _participation(self.realtime.ctx, self.token)
        if participation is None:
            await self.socket.close(CloseCode.UNKNOWN_LINK)
            return Ending.REFUSED
        if participation.state != Journey.WINDOW_OPEN:
            await self.socket.send(StateChanged(state=participation.state))
            await self.socket.close(JOURNEY_CLOSE[participation.state])
            return Ending.REFUSED
        self._recheck.passed(begun)
        self._participation = participation
        return participation

    async def _check_for(self, frame: FromClient) -> Participation | Ending:
        """The participation, read again unless a recent read covers the frame
        (:class:`~videotermin.realtime.connection.Recheck`)."""
        if self._participation is not None and self._recheck.covers(frame):
            return self._participation
        return await self._check()

    # --- client messages ---------------------------------------------------------

    async def _on_client(self, frame: FromClient) -> Ending | None:
        message = frame.message
        participation = await self._check_for(frame)
        if isinstance(participation, Ending):
            return participation
        if isinstance(message, ProtocolError):
            await self.socket.send(Error.of(message))
        elif isinstance(message, CitizenHello):
            return await self._on_hello(message, participation)
        elif isinstance(message, Admit | Remove | End):
            await self.socket.refuse(
                ErrorCode.NOT_ALLOWED, "only the advisor may do this", message.type
            )
        elif self.greeted_at is None:
            await self.socket.refuse(ErrorCode.HELLO_REQUIRED, "say hello first", message.type)
        elif isinstance(message, Ping):
            await self.socket.send(Pong(id=message.id))
        elif isinstance(message, Signal | Media | Chat | Leave):
            return await self._in_call(message, participation)
        return None

    # --- the call -------------------------------------------------------------------

    async def _in_call(
        self, message: Signal | Media | Chat | Leave, participation: Participation
    ) -> Ending | None:
        """Only a seated connection of an admitted participant takes part; asked again for
        every message, from the database, not from what this connection remembers."""
        if self.call is not None and participation.participant.admitted_at is None:
            return await self._removed()
        if self.call is None:
            await self.socket.refuse(
                ErrorCode.NOT_ADMITTED, "you are not in the call", message.type
            )
            return None
        if isinstance(message, Signal):
            await self.call.signal(message)
        elif isinstance(message, Media):
            await self.call.media(message)
        elif isinstance(message, Chat):
            await self.call.chat(message)
        else:
            await admission.leave(self.realtime.ctx, self.appointment_id, self.participant_id)
            await self.socket.close(CloseCode.LEFT)
            return Ending.LEFT
        return None

    async def _follow_admission(self, participation: Participation) -> Ending | None:
        """Join the call when admitted, leave it when the admission is gone."""
        running = participation.state == Journey.WINDOW_OPEN
        admitted = rejoins(participation.participant.admitted_at, running)
        if self.greeted_at is None:
            return None
        if admitted and self.call is None:
            await self._join(participation)
        elif not admitted and self.call is not None:
            return await self._removed()
        return None

    async def _join(self, participation: Participation) -> None:
        assert self._inbox is not None
        participant = participation.participant
        key = await admission.call_key(self.realtime.ctx, self.appointment_id)
        member = Member(
            appointment_id=self.appointment_id,
            subject=participant.id,
            peer=peer_id(key, participant.id),
            name=shown_name(participant.name, participant.role),
            role=participant.role,
            call_ends=participation.closes_at,
        )
        self.call = InCall(self.realtime, self.socket, member, self.connection_id)
        self._stack.callback(follow_presence(self.realtime, self._inbox, self.appointment_id))
        await self.call.join(self._inbox, self._stack)

    async def _removed(self) -> Ending:
        await self.socket.send(Removed())
        await self.socket.close(CloseCode.REMOVED)
        return Ending.LEFT

    async def _on_hello(self, hello: CitizenHello, participation: Participation) -> Ending | None:
        if self.greeted_at is not None:
            await self.socket.refuse(ErrorCode.ALREADY_GREETED, "hello was already said", "hello")
            return None
        if await self.socket.refuse_version(hello.version):
            return Ending.REFUSED
        self.greeted_at = await takeover.claim(
            self.realtime.ctx.bus, seat_channel(self.participant_id), self.connection_id
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
        return await self._follow_admission(participation)

    # --- bus events and time -------------------------------------------------------

    async def _on_event(self, event: Event) -> Ending | None:
        kind = event.get("type")
        if kind == "takeover":
            return await self._on_takeover(event)
        if kind == "participant_changed" and event.get("participant_id") != self.participant_id:
            return None
        if kind in (
            "participant_changed",
            "appointment_changed",
            "waiting_message",
            "resync",
            "call_admit",
            "call_remove",
        ):
            participation = await self._check()
            if isinstance(participation, Ending):
                return participation
            await self._show_message(participation)
            ending = await self._follow_admission(participation)
            if ending is not None or kind != "resync":
                return ending
        if self.call is not None:
            await self.call.on_event(event)
        return None

    async def _on_takeover(self, event: Event) -> Ending | None:
        if not takeover.overtaken(event, self.greeted_at):
            return None
        await takeover.give_way(self.socket)
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
        return await self._follow_admission(participation)

    async def _show_message(self, participation: Participation) -> None:
        current = _message_of(participation)
        if self.greeted_at is not None and current != self.shown:
            self.shown = current
            await self.socket.send(AdvisorMessage(message=current))
