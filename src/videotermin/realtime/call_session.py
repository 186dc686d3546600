"""The advisor's call connection (``/ws/call/<appointment id>``).

Authorised like ``/ws/staff`` — the staff session cookie, and an ``Origin``
that is this site — and only for the appointment's own advisor (admins: any,
:func:`videotermin.domain.call.may_direct`). The login and the appointment are
kept in memory and read again on the events that can change them (the
appointment changed: rescheduled, handed over, cancelled, ended; the advisor's
logins changed: logout, deactivation), at the instants known in advance (the
appointment's end, the login's expiry) and by the slow safety re-read; so each of
them closes it at once, while signals and chat cost no database read.

After ``hello`` the connection is in the call at once (``admitted``) and sees
who waits (``waiting``, again whenever that changes). Only this connection
admits, removes and ends; reconnecting admits nobody. The call has one staff
seat: a newer call connection for the appointment takes it over, and the older
one is told ``replaced``.
"""

from __future__ import annotations

from starlette.websockets import WebSocket

from videotermin.bus.events import (
    AppointmentChanged,
    ParticipantChanged,
    Resync,
    StaffChanged,
    appointment_channel,
    seat_channel,
    staff_channel,
)
from videotermin.domain.call import ADVISOR, peer_id
from videotermin.domain.journey import Journey
from videotermin.realtime import call
from videotermin.realtime.call import InCall, Member, follow_presence
from videotermin.realtime.connection import (
    JsonSocket,
    Notice,
    RosterChanged,
    same_origin,
)
from videotermin.realtime.presence import advisor_key
from videotermin.realtime.protocol import (
    CALL_MESSAGES,
    PROTOCOL_VERSION,
    Admit,
    CallHello,
    Chat,
    ClientMessage,
    CloseCode,
    End,
    ErrorCode,
    Leave,
    Media,
    Quality,
    Remove,
    Signal,
)
from videotermin.realtime.server_messages import (
    CallWelcome,
    StateChanged,
    Waiting,
    WaitingPerson,
)
from videotermin.realtime.service import Realtime
from videotermin.realtime.session import Ending, Session
from videotermin.services import admission
from videotermin.services.admission import Direction, NoDirection
from videotermin.services.audit import Actor, staff_actor
from videotermin.services.staff_auth import Login


async def serve_call(
    realtime: Realtime, websocket: WebSocket, appointment_id: str, token: str | None
) -> None:
    """``token`` is the staff session cookie's."""
    if not same_origin(websocket, realtime.ctx.settings.public_url):
        await websocket.close(code=CloseCode.FORBIDDEN, reason=CloseCode.FORBIDDEN.reason)
        return
    allowed = await admission.direction(realtime.ctx, token, appointment_id)
    await websocket.accept()
    socket = JsonSocket(websocket, CALL_MESSAGES)
    if allowed == NoDirection.LOGIN_REQUIRED or token is None:
        await socket.close(CloseCode.LOGIN_REQUIRED)
        return
    session = AdvisorCall(realtime, socket, token, appointment_id)
    if await session.refused(allowed) is None:
        await session.run()


_CLOSE = {
    NoDirection.LOGIN_REQUIRED: CloseCode.LOGIN_REQUIRED,
    NoDirection.FORBIDDEN: CloseCode.FORBIDDEN,
    NoDirection.CANCELLED: CloseCode.CANCELLED,
    NoDirection.ENDED: CloseCode.ENDED,
}
_STATE = {NoDirection.CANCELLED: Journey.CANCELLED, NoDirection.ENDED: Journey.ENDED}


class AdvisorCall(Session):
    hello = CallHello
    kind = "advisor_call"

    def __init__(
        self, realtime: Realtime, socket: JsonSocket, token: str, appointment_id: str
    ) -> None:
        super().__init__(realtime, socket)
        self.token = token
        self.appointment_id = appointment_id
        self.direction: Direction | None = None
        """The last read that let the connection go on."""
        self.call: InCall | None = None
        self.key = ""
        self.shown: list[WaitingPerson] | None = None
        self.shown_from: call.WaitingBoard = frozenset()
        self.quality = call.QualityTally()
        """The board the shown list was read for (:func:`call.waiting_on_board`)."""

    @property
    def actor(self) -> Actor:
        """Who the audit log names for this call's admissions, removals and end."""
        return staff_actor(self.login.user.id)

    @property
    def login(self) -> Login:
        assert self.direction is not None
        return self.direction.login

    @property
    def seat(self) -> str:
        return seat_channel(advisor_key(self.appointment_id))

    def channels(self) -> tuple[str, ...]:
        return (appointment_channel(self.appointment_id), staff_channel(self.login.user.id))

    async def started(self) -> None:
        assert self.inbox is not None
        self.stack.callback(follow_presence(self.realtime, self.inbox, self.appointment_id))
        self._arm()

    def _arm(self) -> None:
        """The call or the login ends by itself at the earlier of the two."""
        assert self.direction is not None
        self.arm(min(self.direction.call_ends, self.login.expires_at))

    async def finished(self, ending: Ending) -> None:
        try:
            if self.call is not None and ending != Ending.REPLACED:
                await self.realtime.presence.leave(
                    advisor_key(self.appointment_id),
                    self.connection_id,
                    grace=ending == Ending.GONE,
                )
        finally:  # the statistics' write may fail (the database is down): presence first
            await self.quality.flush(self.realtime, self.appointment_id)

    # --- who may, asked again and again ---------------------------------------------

    async def refused(self, allowed: Direction | NoDirection | None = None) -> Ending | None:
        """Close the connection when this login may no longer direct this call."""
        if allowed is None:
            allowed = await admission.direction(self.realtime.ctx, self.token, self.appointment_id)
        if isinstance(allowed, NoDirection):
            if allowed in _STATE:
                await self.socket.send(StateChanged(state=_STATE[allowed]))
            await self.socket.close(_CLOSE[allowed])
            return Ending.CLOSED
        self.direction = allowed
        if self.inbox is not None:  # the first read comes before the session runs
            self._arm()
        return None

    # --- the client's messages ----------------------------------------------------------

    async def greet(self, hello: ClientMessage) -> Ending | None:
        assert self.inbox is not None and self.direction is not None
        self.key = self.direction.call_key or await admission.call_key(
            self.realtime.ctx, self.appointment_id
        )
        member = Member(
            appointment_id=self.appointment_id,
            subject=ADVISOR,
            peer=peer_id(self.key, ADVISOR),
            name=self.login.user.display_name,
            role="advisor",
            call_ends=self.direction.call_ends,
        )
        await self.socket.send(
            CallWelcome(version=PROTOCOL_VERSION, ping_interval=self.realtime.timing.ping_seconds)
        )
        self.call = InCall(self.realtime, self.socket, member, self.connection_id)
        await self.call.join(self.inbox, self.stack)
        await self._show_waiting()
        return None

    async def on_message(self, message: ClientMessage) -> Ending | None:
        assert self.call is not None
        if isinstance(message, Admit):
            problem = await admission.admit(
                self.realtime.ctx,
                self.appointment_id,
                message.participant,
                call.connected_waiting(self.realtime, self.appointment_id),
                self.actor,
            )
            if problem is not None:
                await self.socket.refuse(ErrorCode(problem), _WHY[problem], "admit")
            else:
                self.realtime.metrics.admissions.inc()
        elif isinstance(message, Remove):
            problem = await admission.remove(
                self.realtime.ctx, self.appointment_id, self.key, message.participant, self.actor
            )
            if problem is not None:
                await self.socket.refuse(ErrorCode(problem), _WHY[problem], "remove")
        elif isinstance(message, End):
            await admission.end(self.realtime.ctx, self.appointment_id, self.actor)
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
        elif isinstance(message, Quality):
            self.quality.add(message)
        return None

    # --- events and time ---------------------------------------------------------------

    async def on_event(self, event: Notice) -> Ending | None:
        if isinstance(event, AppointmentChanged | StaffChanged | Resync):
            ending = await self.refused()
            if ending is not None:
                return ending
        if self.call is None:
            return None
        if isinstance(event, RosterChanged):
            await self._show_waiting(unless_board_unchanged=True)
        elif isinstance(event, ParticipantChanged | Resync):
            await self._show_waiting()
        await self.call.on_event(event)
        return None

    async def on_tick(self) -> Ending | None:
        """An alarm rang, or the safety re-read is due (in case the bus lost an event)."""
        ending = await self.refused()
        if ending is not None:
            return ending
        await self._show_waiting()
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
