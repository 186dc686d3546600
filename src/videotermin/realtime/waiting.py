"""The citizen's waiting room connection (``/ws/v/<token>``).

The journey rule (:mod:`videotermin.domain.journey`) decides, not the page:
it is checked when the socket opens and kept in memory, so messages (``ping``,
signals, chat) cost no database read. It is checked again on every event about
this participant or appointment (a withdrawal, a cancellation, a reschedule, an
admission or removal), when the window closes (an alarm at its end), and by
the instance's safety re-read about every minute, which reads all its links in
batches (:mod:`videotermin.realtime.link_sweep`) — so each of them ends the
waiting at once, with a ``state`` message and a close code that names the state.

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

from starlette.websockets import WebSocket

from videotermin.bus.events import (
    AppointmentChanged,
    CallAdmit,
    CallRemove,
    ParticipantChanged,
    Resync,
    WaitingMessageChanged,
    appointment_channel,
    seat_channel,
)
from videotermin.domain.call import peer_id, rejoins
from videotermin.domain.journey import Journey
from videotermin.realtime.call import InCall, Member, QualityTally, follow_presence
from videotermin.realtime.connection import FromBus, JsonSocket, LinkRead, Notice
from videotermin.realtime.protocol import (
    CITIZEN_MESSAGES,
    JOURNEY_CLOSE,
    PROTOCOL_VERSION,
    Admit,
    Chat,
    CitizenHello,
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
    AdvisorMessage,
    CitizenWelcome,
    Removed,
    StateChanged,
    WaitingMessageText,
)
from videotermin.realtime.service import Realtime
from videotermin.realtime.session import Ending, Session
from videotermin.services import activity, admission
from videotermin.services.participation import LinkAuthority, link_authority

RECHECKING = (
    ParticipantChanged,
    AppointmentChanged,
    WaitingMessageChanged,
    Resync,
    CallAdmit,
    CallRemove,
)
"""Events after which the link's participation is read again."""


def _message_of(link: LinkAuthority) -> WaitingMessageText | None:
    if not link.waiting_message or link.waiting_message_at is None:
        return None
    return WaitingMessageText(text=link.waiting_message, at=link.waiting_message_at)


async def serve_citizen(realtime: Realtime, websocket: WebSocket, token: str) -> None:
    """Refuse with the reason as close code, or hold the connection until it ends."""
    participation = await link_authority(realtime.ctx, token)
    await websocket.accept()
    socket = JsonSocket(websocket, CITIZEN_MESSAGES)
    if participation is None:
        await socket.close(CloseCode.UNKNOWN_LINK)
        return
    if not participation.may_enter:
        await socket.close(JOURNEY_CLOSE[participation.state])
        return
    await CitizenSession(realtime, socket, token, participation).run()


class CitizenSession(Session):
    hello = CitizenHello
    kind = "citizen"
    forbidden = (Admit, Remove, End)
    forbidden_why = "only the advisor may do this"
    safety_ticks = False  # the instance's link sweep re-reads every link in batches

    def __init__(
        self, realtime: Realtime, socket: JsonSocket, token: str, participation: LinkAuthority
    ) -> None:
        super().__init__(realtime, socket)
        self.token = token
        self.participant_id = participation.participant_id
        self.appointment_id = participation.appointment_id
        self.shown: WaitingMessageText | None = None
        self.call: InCall | None = None
        self._participation = participation
        """The last participation read that let the connection go on."""
        self.quality = QualityTally()

    @property
    def seat(self) -> str:
        return seat_channel(self.participant_id)

    def channels(self) -> tuple[str, ...]:
        return (appointment_channel(self.appointment_id),)

    async def finished(self, ending: Ending) -> None:
        try:
            if self.greeted and ending != Ending.REPLACED:
                await self.realtime.presence.leave(
                    self.participant_id, self.connection_id, grace=ending == Ending.GONE
                )
        finally:  # the statistics' write may fail (the database is down): presence first
            await self.quality.flush(self.realtime, self.appointment_id)

    # --- the rule, again and again -----------------------------------------------

    async def started(self) -> None:
        inbox = self.inbox
        assert inbox is not None
        self.arm(self._participation.closes_at)
        self.stack.callback(
            self.realtime.links.watch(
                self.connection_id,
                self.participant_id,
                lambda authority: inbox.put(FromBus(LinkRead(authority))),
            )
        )

    async def _check(self, read: LinkRead | None = None) -> LinkAuthority | Ending:
        """The participation now (as ``read`` by the link sweep, or read here), or the ending
        when it no longer allows waiting."""
        if read is None:
            participation = await link_authority(self.realtime.ctx, self.token)
        else:
            participation = read.authority
        if participation is None:
            await self.socket.close(CloseCode.UNKNOWN_LINK)
            return Ending.CLOSED
        if participation.state != Journey.WINDOW_OPEN:
            await self.socket.send(StateChanged(state=participation.state))
            await self.socket.close(JOURNEY_CLOSE[participation.state])
            return Ending.CLOSED
        self.arm(participation.closes_at)  # a reschedule moves it
        self._participation = participation
        return participation

    # --- client messages ---------------------------------------------------------

    async def greet(self, hello: ClientMessage) -> Ending | None:
        participation = self._participation
        since = await self.realtime.presence.enter(
            self.appointment_id, self.participant_id, self.connection_id
        )
        await activity.entered_waiting_room(self.realtime.ctx, self.participant_id, since)
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

    async def on_message(self, message: ClientMessage) -> Ending | None:
        """Only a seated connection of an admitted participant takes part, as the last read
        of the participation says (events keep it current)."""
        if isinstance(message, Quality):
            if self.call is not None:
                self.quality.add(message)
            return None
        if not isinstance(message, Signal | Media | Chat | Leave):
            return None
        if self.call is not None and self._participation.admitted_at is None:
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
            return Ending.CLOSED
        return None

    # --- the call -------------------------------------------------------------------

    async def _follow_admission(self, participation: LinkAuthority) -> Ending | None:
        """Join the call when admitted, leave it when the admission is gone."""
        running = participation.state == Journey.WINDOW_OPEN
        admitted = rejoins(participation.admitted_at, running)
        if not self.greeted:
            return None
        if admitted and self.call is None:
            await self._join(participation)
        elif not admitted and self.call is not None:
            return await self._removed()
        return None

    async def _join(self, participation: LinkAuthority) -> None:
        assert self.inbox is not None
        key = participation.call_key or await admission.call_key(
            self.realtime.ctx, self.appointment_id
        )
        member = Member(
            appointment_id=self.appointment_id,
            subject=self.participant_id,
            peer=peer_id(key, self.participant_id),
            name=participation.name or "",
            role=participation.role,
            call_ends=participation.closes_at,
        )
        self.call = InCall(self.realtime, self.socket, member, self.connection_id)
        self.stack.callback(follow_presence(self.realtime, self.inbox, self.appointment_id))
        await self.call.join(self.inbox, self.stack)

    async def _removed(self) -> Ending:
        await self.socket.send(Removed())
        await self.socket.close(CloseCode.REMOVED)
        return Ending.CLOSED

    # --- bus events and time -------------------------------------------------------

    async def on_event(self, event: Notice) -> Ending | None:
        if isinstance(event, LinkRead):
            if event.authority == self._participation:
                return None  # the safety re-read found what the events had said
            return await self._recheck_all(event)
        if isinstance(event, ParticipantChanged) and event.participant_id != self.participant_id:
            return None
        if isinstance(event, RECHECKING):
            ending = await self._recheck_all()
            if ending is not None or not isinstance(event, Resync):
                return ending
        if self.call is not None:
            await self.call.on_event(event)
        return None

    async def on_tick(self) -> Ending | None:
        return await self._recheck_all()  # an alarm rang

    async def _recheck_all(self, read: LinkRead | None = None) -> Ending | None:
        participation = await self._check(read)
        if isinstance(participation, Ending):
            return participation
        await self._show_message(participation)
        return await self._follow_admission(participation)

    async def _show_message(self, participation: LinkAuthority) -> None:
        current = _message_of(participation)
        if self.greeted and current != self.shown:
            self.shown = current
            await self.socket.send(AdvisorMessage(message=current))
