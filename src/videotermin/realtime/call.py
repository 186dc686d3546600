"""The call: who is in it, who waits, and the relay between the connections in it.

Both kinds of connection take a seat here — the citizen's (``/ws/v/<token>``,
:mod:`videotermin.realtime.waiting`) once admitted, and the advisor's
(``/ws/call/<id>``, :mod:`videotermin.realtime.call_session`).

Who is in the call is presence (:mod:`videotermin.realtime.presence`): a
connection in the call holds a presence entry with a :class:`CallSeat` (peer
id and media flags), so every app instance knows the roster and heals it with
the heartbeats. A participant's seat counts only while the database says they
are admitted, so a removal takes effect at once, even for a connection that is
just reconnecting. Names and roles come from the database, read with the
server's own authority; the bus carries ids and flags.

The relay runs over the bus channel ``call:<appointment id>``, to which only
connections in the call subscribe: ``signal`` (SDP and ICE candidates) and
``chat`` travel there *in transit* — pub/sub keeps nothing, and neither does
the server. Every relayed event carries the sender's peer id as the sending
connection's session knows it; a client's message never names its sender.

Each connection keeps its own view of the others (:class:`InCall`) and tells
its client the differences: a new peer or a new connection of a known peer
(a reload, a reconnect, another tab) is ``peer_joined`` — every side then
starts that one pair afresh; media and connectedness are ``peer_updated``; a
peer gone from the roster is ``peer_left``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from videotermin.bus.events import (
    CallChat,
    CallRemoved,
    CallSignal,
    Event,
    Resync,
    call_channel,
    publish,
    relay,
)
from videotermin.domain.call import ADVISOR
from videotermin.media.ice import browser_ice_servers
from videotermin.realtime.connection import FromBus, Inbox, JsonSocket, Notice, RosterChanged
from videotermin.realtime.presence import CallSeat, Change, Entry, advisor_key
from videotermin.realtime.protocol import (
    Chat,
    ErrorCode,
    IceCandidate,
    Media,
    Quality,
    SessionDescription,
    Signal,
)
from videotermin.realtime.server_messages import (
    Admitted,
    ChatLine,
    Error,
    IceServer,
    Peer,
    PeerJoined,
    PeerLeft,
    PeerUpdated,
    SignalFrom,
    Verdict,
    WaitingPerson,
)
from videotermin.realtime.service import Realtime
from videotermin.services import admission, statistics


def follow_presence(realtime: Realtime, inbox: Inbox, appointment_id: str) -> Callable[[], None]:
    """Put a :class:`RosterChanged` into ``inbox`` whenever presence of the appointment
    changes; returns the callable that stops it."""

    def changed(change: Change) -> None:
        inbox.put(FromBus(RosterChanged()))

    return realtime.presence.listen(changed, appointment_id)


# --- who is in the call, who waits ----------------------------------------------------


@dataclass(frozen=True)
class Seated:
    peer: Peer
    connection_id: str


async def roster(realtime: Realtime, appointment_id: str) -> dict[str, Seated]:
    """Everyone in the call now, by peer id: seats on the presence board whose holder
    is the advisor or a participant the database calls admitted."""
    entries = [e for e in realtime.presence.board.of_appointment(appointment_id) if e.call]
    if not entries:
        return {}
    seats = await admission.seats(realtime.ctx, appointment_id)
    seated: dict[str, Seated] = {}
    for entry in entries:
        assert entry.call is not None
        if entry.participant_id == advisor_key(appointment_id):
            who = (seats.advisor_name, "advisor")
        elif entry.participant_id in seats.admitted:
            who = seats.admitted[entry.participant_id]
        else:
            continue
        seated[entry.call.peer] = _seated(entry, *who)
    return seated


def _seated(entry: Entry, name: str, role: str) -> Seated:
    """A call seat on the presence board as the others are told of it."""
    seat = entry.call
    assert seat is not None
    return Seated(
        Peer(
            id=seat.peer,
            name=name,
            role=role,
            audio=seat.audio,
            video=seat.video,
            screen=seat.screen,
            connection="connected" if entry.connected else "reconnecting",
        ),
        entry.connection_id,
    )


WaitingBoard = frozenset[tuple[str, str, datetime]]


def waiting_on_board(realtime: Realtime, appointment_id: str) -> WaitingBoard:
    """The part of the presence board the waiting list is made of: who is connected
    without a call seat, on which connection, since when. While it stays the same,
    only an admission or removal (an event of its own) changes the list."""
    return frozenset(
        (e.participant_id, e.connection_id, e.since)
        for e in realtime.presence.board.of_appointment(appointment_id)
        if e.call is None and e.connected
    )


def connected_waiting(realtime: Realtime, appointment_id: str) -> dict[str, datetime]:
    """Participants connected to the appointment without a call seat, and since when they
    wait."""
    return {entry[0]: entry[2] for entry in waiting_on_board(realtime, appointment_id)}


async def waiting_list(realtime: Realtime, appointment_id: str) -> list[WaitingPerson]:
    """Who waits to be admitted: connected now, not in the call, not admitted, not removed."""
    since = {participant: at for participant, _, at in waiting_on_board(realtime, appointment_id)}
    return [
        WaitingPerson(
            id=waiter.id,
            name=waiter.name,
            role=waiter.role,
            since=waiter.since,
            verdict=_verdict(waiter.verdict),
        )
        for waiter in await admission.waiting_list(realtime.ctx, appointment_id, since)
    ]


_VERDICTS: dict[str, Verdict] = {"green": "green", "yellow": "yellow", "red": "red"}


def _verdict(verdict: str | None) -> Verdict | None:
    """The traffic light as the protocol names it; anything else is no verdict."""
    return _VERDICTS.get(verdict or "")


# --- one connection's seat --------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """Who a connection in the call is — from its token or staff session, never a message."""

    appointment_id: str
    subject: str
    """A participant id, or :data:`~videotermin.domain.call.ADVISOR`."""
    peer: str
    name: str
    """Empty for a participant without a name: the pages show the role in their language."""
    role: str
    call_ends: datetime | None
    """The end of the appointment: the call's TURN credentials expire soon after."""

    @property
    def presence_key(self) -> str:
        if self.subject == ADVISOR:
            return advisor_key(self.appointment_id)
        return self.subject


class InCall:
    """One connection's seat: it enters the roster, relays its client's signal, media and
    chat, and turns roster changes and relayed events into messages for its client."""

    def __init__(
        self, realtime: Realtime, socket: JsonSocket, member: Member, connection_id: str
    ) -> None:
        self.realtime = realtime
        self.socket = socket
        self.member = member
        self.connection_id = connection_id
        self.seat = CallSeat(peer=member.peer)
        self.known: dict[str, Seated] = {}
        self.removed: set[str] = set()

    @property
    def peer(self) -> str:
        return self.member.peer

    async def join(self, inbox: Inbox, stack: contextlib.AsyncExitStack) -> None:
        """Subscribe to the relay, take the seat, and tell the client who is there."""
        realtime, appointment_id = self.realtime, self.member.appointment_id
        await stack.enter_async_context(
            realtime.ctx.bus.feed(inbox.sink, call_channel(appointment_id))
        )
        await self._sit()
        self.known = await self._others()
        now = realtime.ctx.clock()
        await self.socket.send(
            Admitted(
                self_=self.peer,
                ice_servers=[
                    IceServer.model_validate(server)
                    for server in browser_ice_servers(
                        realtime.ctx.settings, now, self.member.call_ends
                    )
                ],
                ice_transport_policy=realtime.ctx.settings.ice_transport_policy,
                peers=[seated.peer for seated in self.known.values()],
                max_participants=realtime.ctx.settings.call_max_participants,
            )
        )

    async def _sit(self) -> None:
        await self.realtime.presence.enter(
            self.member.appointment_id, self.member.presence_key, self.connection_id, self.seat
        )

    async def _others(self) -> dict[str, Seated]:
        seated = await roster(self.realtime, self.member.appointment_id)
        seated.pop(self.peer, None)
        return seated

    async def roster_changed(self) -> None:
        """Presence of the appointment changed. When the seats still held are held by
        the connections the client knows, only departures, media flags or connectedness
        can differ: those are told from the board, without reading the database (a mute,
        or the media state a newcomer announces while the first offer is under way,
        would otherwise cost every connection in the call a read; and a departure is
        shown while the database is down). Anything else reads the roster anew."""
        seats = {
            entry.call.peer: entry
            for entry in self.realtime.presence.board.of_appointment(self.member.appointment_id)
            if entry.call is not None and entry.call.peer != self.peer
        }
        held = {peer: entry.connection_id for peer, entry in seats.items()}
        known = {peer: seated.connection_id for peer, seated in self.known.items()}
        if not held.items() <= known.items():
            await self.refresh()
            return
        now = {}
        for peer, entry in seats.items():
            told = self.known[peer].peer
            now[peer] = _seated(entry, told.name, told.role)
        await self._tell_changes(now)

    async def refresh(self) -> None:
        """Read the roster and tell the client how it differs from what it was told."""
        await self._tell_changes(await self._others())

    async def _tell_changes(self, current: dict[str, Seated]) -> None:
        """Joined, updated and left peers, against what the client was told before."""
        for peer, seated in current.items():
            before = self.known.get(peer)
            if before is None or before.connection_id != seated.connection_id:
                self.removed.discard(peer)
                await self.socket.send(PeerJoined(peer=seated.peer))
            elif before.peer != seated.peer:
                await self.socket.send(PeerUpdated(peer=seated.peer))
        for peer in self.known.keys() - current.keys():
            reason = "removed" if peer in self.removed else "left"
            await self.socket.send(PeerLeft(id=peer, reason=reason))
        self.known = current

    # --- from the client (already authorised by the session) -----------------------------

    async def signal(self, message: Signal) -> None:
        if message.to not in self.known:
            await self.refresh()
        if message.to not in self.known:
            await self.socket.send(
                Error(code=ErrorCode.UNKNOWN_PEER, message="no such peer in the call", ref="signal")
            )
            return
        await self._relay(
            CallSignal(
                from_=self.peer,
                connection=self.connection_id,
                to=message.to,
                description=message.description.model_dump() if message.description else None,
                candidate=message.candidate.model_dump() if message.candidate else None,
            )
        )

    async def media(self, message: Media) -> None:
        self.seat = CallSeat(self.peer, message.audio, message.video, message.screen)
        await self._sit()

    async def chat(self, message: Chat) -> None:
        """A line for everyone in the call. Nothing keeps it, so when the bus cannot
        take it the error is raised: the session answers ``unavailable`` for ``chat``,
        and the sender's page gives the line back."""
        await relay(
            self.realtime.ctx.bus,
            call_channel(self.member.appointment_id),
            CallChat(
                from_=self.peer,
                name=self.member.name,
                role=self.member.role,
                text=message.text,
                at=self.realtime.ctx.clock(),
            ),
        )

    async def _relay(self, event: Event) -> None:
        await publish(self.realtime.ctx.bus, call_channel(self.member.appointment_id), event)

    # --- from the bus ---------------------------------------------------------------------------

    async def on_event(self, event: Notice) -> bool:
        """Handle a call event; ``False`` when it was none."""
        if isinstance(event, RosterChanged):
            await self.roster_changed()
        elif isinstance(event, Resync):
            await self.refresh()
        elif isinstance(event, CallSignal):
            if event.to == self.peer:
                await self._deliver_signal(event)
        elif isinstance(event, CallChat):
            await self.socket.send(
                ChatLine(
                    from_=event.from_,
                    name=event.name,
                    role=event.role,
                    text=event.text,
                    at=event.at,
                )
            )
        elif isinstance(event, CallRemoved):
            self.removed.add(event.peer)
            await self.refresh()
        else:
            return False
        return True

    def _knows(self, event: CallSignal) -> bool:
        seated = self.known.get(event.from_)
        return seated is not None and seated.connection_id == event.connection

    async def _deliver_signal(self, event: CallSignal) -> None:
        """Pass a signal on — never before the client has heard of its sender: a newcomer
        offers as soon as it is admitted (or reloaded), and its offer can overtake the
        roster change that introduces that connection here."""
        if not self._knows(event):
            await self.refresh()
        if not self._knows(event):
            return
        description, candidate = event.description, event.candidate
        await self.socket.send(
            SignalFrom(
                from_=event.from_,
                description=SessionDescription.model_validate(description) if description else None,
                candidate=IceCandidate.model_validate(candidate) if candidate else None,
            )
        )


class QualityTally:
    """The ``quality`` reports of one call connection, added up in memory and written to
    the anonymous statistics once, when the connection ends (no write per report)."""

    LIMIT = 100_000
    """Measurements one connection may count: ten hours of a full call, and no more."""

    def __init__(self) -> None:
        self.grades: dict[str, int] = {"good": 0, "fair": 0, "poor": 0}

    def add(self, report: Quality) -> None:
        for grade in self.grades:
            room = self.LIMIT - sum(self.grades.values())
            self.grades[grade] += min(max(0, room), getattr(report, grade))

    async def flush(self, realtime: Realtime, appointment_id: str) -> None:
        grades, self.grades = self.grades, {grade: 0 for grade in self.grades}
        await statistics.call_quality(realtime.ctx, appointment_id, grades)
