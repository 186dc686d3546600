"""The advisor's call connection (``/ws/call/<appointment id>``).

Authorised like ``/ws/staff`` — the staff session cookie, and an ``Origin``
that is this site — and only for the appointment's own advisor (admins: any,
:func:`videotermin.domain.call.may_direct`). The login and the appointment are
read again for every message (by a read that began after it arrived) and every
``recheck_seconds``: a logout, a handover to another advisor or the end of the
appointment closes it.

After ``hello`` the connection is in the call at once (``admitted``) and sees
who waits (``waiting``, again whenever that changes). Only this connection
admits, removes and ends; reconnecting admits nobody. The call has one staff
seat: a newer call connection for the appointment takes it over, and the older
one is told ``replaced``.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import datetime
from enum import Enum

from starlette.websockets import WebSocket

from videotermin.bus.core import Event
from videotermin.bus.events import appointment_channel, seat_channel
from videotermin.domain.appointments import Status, end_of
from videotermin.domain.call import ADVISOR, call_running, may_direct, peer_id
from videotermin.domain.journey import Journey
from videotermin.domain.staff import ADVISOR_ROLES
from videotermin.realtime import call, takeover
from videotermin.realtime.call import InCall, Member, follow_presence
from videotermin.realtime.connection import (
    FromBus,
    FromClient,
    Gone,
    Inbox,
    JsonSocket,
    Recheck,
    Tick,
    same_origin,
)
from videotermin.realtime.presence import advisor_key
from videotermin.realtime.protocol import (
    CALL_MESSAGES,
    PROTOCOL_VERSION,
    Admit,
    CallHello,
    CallWelcome,
    Chat,
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
    Signal,
    StateChanged,
    Waiting,
    WaitingPerson,
)
from videotermin.realtime.service import Realtime
from videotermin.services import admission
from videotermin.services.staff_auth import Login, find_login
from videotermin.store.models import Appointment


class Ending(Enum):
    GONE = "gone"
    """The page went away: the seat shows "reconnecting" for the grace."""
    CLOSED = "closed"
    """Left, ended, logged out or no longer allowed: the seat is given up at once."""
    REPLACED = "replaced"


async def _login(realtime: Realtime, token: str | None) -> Login | None:
    async with realtime.ctx.sessions() as db:
        return await find_login(db, token, realtime.ctx.clock())


async def serve_call(
    realtime: Realtime, websocket: WebSocket, appointment_id: str, token: str | None
) -> None:
    """``token`` is the staff session cookie's."""
    if not same_origin(websocket, realtime.ctx.settings.public_url):
        await websocket.close(code=CloseCode.FORBIDDEN, reason=CloseCode.FORBIDDEN.reason)
        return
    login = await _login(realtime, token)
    await websocket.accept()
    socket = JsonSocket(websocket, CALL_MESSAGES)
    if login is None or token is None:
        await socket.close(CloseCode.LOGIN_REQUIRED)
        return
    session = AdvisorCall(realtime, socket, token, login, appointment_id)
    if await session.refused() is None:
        await session.run()


class AdvisorCall:
    def __init__(
        self,
        realtime: Realtime,
        socket: JsonSocket,
        token: str,
        login: Login,
        appointment_id: str,
    ) -> None:
        self.realtime = realtime
        self.socket = socket
        self.token = token
        self.login = login
        self.appointment_id = appointment_id
        self.connection_id = uuid.uuid4().hex
        self.greeted_at: tuple[int, str] | None = None
        self.opened = time.monotonic()
        self.call: InCall | None = None
        self.key = ""
        self.shown: list[WaitingPerson] | None = None
        self.shown_from: call.WaitingBoard = frozenset()
        """The board the shown list was read for (:func:`call.waiting_on_board`)."""
        self.inbox: Inbox | None = None
        self.recheck = Recheck()
        self.call_ends: datetime | None = None
        """The appointment's end, as :meth:`refused` last read it."""

    # --- who may, asked again and again ---------------------------------------------

    async def refused(self) -> Ending | None:
        """Close the connection when this login may no longer direct this call."""
        realtime = self.realtime
        begun = Recheck.begin(self.inbox)
        login = await _login(realtime, self.token)
        if login is None:
            await self.socket.close(CloseCode.LOGIN_REQUIRED)
            return Ending.CLOSED
        self.login = login
        async with realtime.ctx.sessions() as db:
            appointment = await db.get(Appointment, self.appointment_id)
        user = login.user
        if (
            user.role not in ADVISOR_ROLES
            or appointment is None
            or not may_direct(user.role, user.id, appointment.advisor_id)
        ):
            await self.socket.close(CloseCode.FORBIDDEN)
            return Ending.CLOSED
        if appointment.status == Status.CANCELLED:
            await self.socket.send(StateChanged(state=Journey.CANCELLED))
            await self.socket.close(CloseCode.CANCELLED)
            return Ending.CLOSED
        now = realtime.ctx.clock()
        self.call_ends = end_of(appointment.start_at, appointment.duration_minutes)
        if not call_running(
            appointment.status, appointment.start_at, appointment.duration_minutes, now
        ):
            await self.socket.send(StateChanged(state=Journey.ENDED))
            await self.socket.close(CloseCode.ENDED)
            return Ending.CLOSED
        self.recheck.passed(begun)
        return None

    # --- the connection -----------------------------------------------------------------

    async def run(self) -> None:
        realtime = self.realtime
        ending = Ending.GONE
        try:
            async with contextlib.AsyncExitStack() as stack:
                events = await stack.enter_async_context(
                    realtime.ctx.bus.subscribe(
                        appointment_channel(self.appointment_id),
                        seat_channel(advisor_key(self.appointment_id)),
                    )
                )
                inbox = await stack.enter_async_context(
                    Inbox(
                        self.socket,
                        idle_seconds=realtime.timing.idle_seconds,
                        tick_seconds=realtime.timing.recheck_seconds,
                    )
                )
                inbox.follow(events)
                self.inbox = inbox
                stack.callback(follow_presence(realtime, inbox, self.appointment_id))
                ending = await self._serve(inbox, stack)
        finally:
            if self.call is not None and ending != Ending.REPLACED:
                await realtime.presence.leave(
                    advisor_key(self.appointment_id),
                    self.connection_id,
                    grace=ending == Ending.GONE,
                )

    async def _serve(self, inbox: Inbox, stack: contextlib.AsyncExitStack) -> Ending:
        while True:
            item = await inbox.get()
            if isinstance(item, Gone):
                if item.silent:
                    await self.socket.close(CloseCode.TIMEOUT)
                return Ending.GONE
            if isinstance(item, FromClient):
                ending = await self._on_client(item, inbox, stack)
            elif isinstance(item, FromBus):
                ending = await self._on_event(item.event)
            else:
                assert isinstance(item, Tick)
                ending = await self._on_tick()
            if ending is not None:
                return ending

    async def _on_client(
        self, frame: FromClient, inbox: Inbox, stack: contextlib.AsyncExitStack
    ) -> Ending | None:
        message = frame.message
        if isinstance(message, ProtocolError):
            await self.socket.send(Error.of(message))
            return None
        if not self.recheck.covers(frame):
            ending = await self.refused()
            if ending is not None:
                return ending
        if isinstance(message, CallHello):
            return await self._on_hello(message, inbox, stack)
        if self.call is None:
            await self.socket.refuse(ErrorCode.HELLO_REQUIRED, "say hello first", message.type)
        elif isinstance(message, Ping):
            await self.socket.send(Pong(id=message.id))
        elif isinstance(message, Admit):
            problem = await admission.admit(
                self.realtime.ctx,
                self.appointment_id,
                message.participant,
                call.connected_waiting(self.realtime, self.appointment_id),
            )
            if problem is not None:
                await self.socket.refuse(ErrorCode(problem), _WHY[problem], "admit")
        elif isinstance(message, Remove):
            problem = await admission.remove(
                self.realtime.ctx, self.appointment_id, self.key, message.participant
            )
            if problem is not None:
                await self.socket.refuse(ErrorCode(problem), _WHY[problem], "remove")
        elif isinstance(message, End):
            await admission.end(self.realtime.ctx, self.appointment_id)
            await self.socket.send(StateChanged(state=Journey.ENDED))
            await self.socket.close(CloseCode.ENDED)
            return Ending.CLOSED
        elif isinstance(message, Leave):
            await self.socket.close(CloseCode.LEFT)
            return Ending.CLOSED
        elif isinstance(message, Signal):
            await self.call.signal(message)
        elif isinstance(message, Media):
            await self.call.media(message)
        elif isinstance(message, Chat):
            await self.call.chat(message)
        return None

    async def _on_hello(
        self, hello: CallHello, inbox: Inbox, stack: contextlib.AsyncExitStack
    ) -> Ending | None:
        if self.greeted_at is not None:
            await self.socket.refuse(ErrorCode.ALREADY_GREETED, "hello was already said", "hello")
            return None
        if await self.socket.refuse_version(hello.version):
            return Ending.CLOSED
        self.greeted_at = await takeover.claim(
            self.realtime.ctx.bus,
            seat_channel(advisor_key(self.appointment_id)),
            self.connection_id,
        )
        self.key = await admission.call_key(self.realtime.ctx, self.appointment_id)
        member = Member(
            appointment_id=self.appointment_id,
            subject=ADVISOR,
            peer=peer_id(self.key, ADVISOR),
            name=self.login.user.display_name,
            role="advisor",
            call_ends=self.call_ends,
        )
        await self.socket.send(
            CallWelcome(version=PROTOCOL_VERSION, ping_interval=self.realtime.timing.ping_seconds)
        )
        self.call = InCall(self.realtime, self.socket, member, self.connection_id)
        await self.call.join(inbox, stack)
        await self._show_waiting()
        return None

    # --- events and time ---------------------------------------------------------------

    async def _on_event(self, event: Event) -> Ending | None:
        kind = event.get("type")
        if kind == "takeover":
            return await self._on_takeover(event)
        if kind in ("appointment_changed", "resync"):
            ending = await self.refused()
            if ending is not None:
                return ending
        if self.call is None:
            return None
        if kind == call.ROSTER_EVENT:
            await self._show_waiting(unless_board_unchanged=True)
        elif kind in ("participant_changed", "resync"):
            await self._show_waiting()
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
        ending = await self.refused()
        if ending is not None:
            return ending
        await self._show_waiting()  # in case the bus lost an event
        if self.call is not None:
            await self.call.refresh()
        return None

    async def _show_waiting(self, *, unless_board_unchanged: bool = False) -> None:
        board = call.waiting_on_board(self.realtime, self.appointment_id)
        if unless_board_unchanged and board == self.shown_from:
            return  # a change in the call (media, connectedness), not among those waiting
        self.shown_from = board
        waiting = await call.waiting_list(self.realtime, self.appointment_id)
        if waiting != self.shown:
            self.shown = waiting
            await self.socket.send(Waiting(participants=waiting))


_WHY = {
    admission.Refusal.NOT_WAITING: "nobody of that id is waiting to be admitted",
    admission.Refusal.CALL_FULL: "the call has no room for that many more",
    admission.Refusal.UNKNOWN_PEER: "nobody of that id is admitted to the call",
}
