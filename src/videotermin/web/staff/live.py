"""The advisor's live list (``/ws/staff``): rows that change while the advisor looks.

The socket is authorised like the pages — by the staff session cookie — and,
because a cookie travels with any page's request, only when the handshake's
``Origin`` is this site (a foreign page gets HTTP 403 before any data). The
page names the appointments it shows in ``hello``; the server keeps those the
advisor owns (admins: any) and subscribes to their bus channels, so events of
other advisors' appointments never reach this socket.

Whatever changed — consent, device check, invitation (bus events from the
citizen pages and jobs) or presence (this instance's presence board) — the
server reads the participant again and sends the row rendered by the pages'
own macro (:mod:`videotermin.web.staff.rows`). The login is kept in memory and
read again when the advisor's logins change (logout, deactivation: an event on
their staff channel), when it expires (an alarm) and by the slow safety re-read:
after logout the socket closes at once.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.websockets import WebSocket

from videotermin.bus.events import (
    ParticipantChanged,
    Resync,
    StaffChanged,
    appointment_channel,
    staff_channel,
)
from videotermin.domain.staff import ADVISOR_ROLES
from videotermin.realtime.connection import (
    FromBus,
    JsonSocket,
    Notice,
    PresenceChanged,
)
from videotermin.realtime.presence import Change
from videotermin.realtime.protocol import (
    PROTOCOL_VERSION,
    STAFF_MESSAGES,
    ClientMessage,
    StaffHello,
)
from videotermin.realtime.server_messages import (
    ParticipantUpdate,
    StaffWelcome,
)
from videotermin.realtime.service import Realtime
from videotermin.realtime.session import Ending, Session
from videotermin.services import staff_list
from videotermin.services.staff_auth import Login
from videotermin.web.cookies import SESSION_COOKIE
from videotermin.web.deps import realtime_of
from videotermin.web.language import remembered_language
from videotermin.web.staff.handshake import staff_handshake, still_allowed
from videotermin.web.staff.rows import View, entered_notice, live_states, render_row


def _holds_appointments(role: str) -> bool:
    return role in ADVISOR_ROLES


async def staff_socket(websocket: WebSocket) -> None:
    await serve_staff(realtime_of(websocket), websocket, websocket.cookies.get(SESSION_COOKIE))


async def serve_staff(realtime: Realtime, websocket: WebSocket, token: str | None) -> None:
    """``token`` is the staff session cookie's."""
    opened = await staff_handshake(realtime, websocket, token, STAFF_MESSAGES, _holds_appointments)
    if opened is not None:
        await StaffSession(realtime, *opened, remembered_language(websocket)).run()


class StaffSession(Session):
    hello = StaffHello
    kind = "staff_list"
    checks_before_hello = True  # the login is known from the handshake's cookie

    def __init__(
        self, realtime: Realtime, socket: JsonSocket, token: str, login: Login, language: str
    ) -> None:
        super().__init__(realtime, socket)
        self.token = token
        self.login = login
        self.language = language  # the pages' choice: rows come in the page's language
        self.zone = ZoneInfo(login.user.unit.timezone)
        self.watching: frozenset[str] = frozenset()
        self.view: View = "agenda"

    def channels(self) -> tuple[str, ...]:
        return (staff_channel(self.login.user.id),)

    async def started(self) -> None:
        self.stack.callback(self.realtime.presence.listen(self._presence))
        self.arm(self.login.expires_at)

    def _presence(self, change: Change) -> None:
        if change.appointment_id in self.watching and self.inbox is not None:
            notice = PresenceChanged(change.appointment_id, change.participant_id, change.entered)
            self.inbox.put(FromBus(notice))

    async def greet(self, hello: ClientMessage) -> Ending | None:
        assert isinstance(hello, StaffHello)
        self.view = hello.view
        self.watching = frozenset(
            await staff_list.watchable(self.realtime.ctx, self.login.user, hello.watch)
        )
        if self.watching:
            await self.listen(*map(appointment_channel, sorted(self.watching)))
        await self.socket.send(
            StaffWelcome(
                version=PROTOCOL_VERSION,
                ping_interval=self.realtime.timing.ping_seconds,
                watching=sorted(self.watching),
            )
        )
        await self._send_all()  # whatever changed between the page and this socket
        return None

    async def on_event(self, event: Notice) -> Ending | None:
        if isinstance(event, StaffChanged | Resync):
            ending = await self.on_tick()
            if ending is not None or isinstance(event, StaffChanged):
                return ending
        if isinstance(event, Resync):
            await self._send_all()
        elif isinstance(event, ParticipantChanged):
            await self._send_row(event.appointment_id, event.participant_id, entered=False)
        elif isinstance(event, PresenceChanged):
            await self._send_row(event.appointment_id, event.participant_id, entered=event.entered)
        return None

    async def on_tick(self) -> Ending | None:
        """Close when the login ended, or its role no longer holds appointments (read
        again: an event, an alarm, the safety re-read)."""
        login = await still_allowed(self.realtime, self.socket, self.token, _holds_appointments)
        return Ending.CLOSED if login is None else None

    async def _send_all(self) -> None:
        pairs = await staff_list.participants_of(self.realtime.ctx, self.watching)
        for appointment_id, participant_id in pairs:
            await self._send_row(appointment_id, participant_id, entered=False)

    async def _send_row(self, appointment_id: str, participant_id: str, *, entered: bool) -> None:
        if appointment_id not in self.watching:
            return
        ctx = self.realtime.ctx
        async with ctx.sessions() as db:
            found = await staff_list.row(db, self.login, appointment_id, participant_id)
            if not found.visible:
                self.watching = self.watching - {appointment_id}
                return
            appointment, participant = found.appointment, found.participant
            if appointment is None or participant is None:
                return
            html, notice, since = "", None, None
            if participant.active:
                live = live_states(ctx.settings, self.realtime.presence, [participant])[
                    participant_id
                ]
                since = live.waiting_since
                html = render_row(
                    appointment,
                    participant,
                    live,
                    view=self.view,
                    csrf_token=self.login.csrf_token,
                    zone=self.zone,
                    now=ctx.clock(),
                    language=self.language,
                )
                if entered and since is not None:
                    notice = entered_notice(appointment, participant, self.zone, self.language)
        await self.socket.send(
            ParticipantUpdate(
                appointment_id=appointment_id,
                participant_id=participant_id,
                html=html,
                waiting_since=since,
                entered=notice is not None,
                notice=notice,
            )
        )
