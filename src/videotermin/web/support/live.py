"""The supporter's live view of one participant (``/ws/support``).

Authorised like the pages — by the staff session cookie, and only when the
handshake's ``Origin`` is this site. ``hello`` names the participant; the server
shows them only to a supporter who looked their code up (the audit entry of that
look-up is the proof, :func:`videotermin.services.support.looked_up`). The socket
then hears the appointment's bus channel and this instance's presence board: on
any change of the participant (a device-check step, a verdict, consent, the
invitation's delivery, entering the waiting room or the call) it renders the
details again with the page's own macro and sends them when they differ from what
the supporter already sees. The login is kept in
memory and read again on the user's staff channel (logout, deactivation), at its
expiry and by the slow safety re-read, like the advisor's live list.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from starlette.websockets import WebSocket

from videotermin.bus.events import (
    ParticipantChanged,
    Resync,
    StaffChanged,
    appointment_channel,
    staff_channel,
)
from videotermin.domain.staff import may_look_up
from videotermin.realtime.connection import (
    FromBus,
    JsonSocket,
    Notice,
    PresenceChanged,
)
from videotermin.realtime.presence import Change
from videotermin.realtime.protocol import (
    PROTOCOL_VERSION,
    SUPPORT_MESSAGES,
    ClientMessage,
    CloseCode,
    SupportHello,
)
from videotermin.realtime.server_messages import SupportUpdate, SupportWelcome
from videotermin.realtime.service import Realtime
from videotermin.realtime.session import Ending, Session
from videotermin.services import support
from videotermin.services.staff_auth import Login
from videotermin.web.cookies import SESSION_COOKIE
from videotermin.web.deps import realtime_of
from videotermin.web.language import remembered_language
from videotermin.web.staff.handshake import staff_handshake, still_allowed
from videotermin.web.support.details import details_of, render_details


async def support_socket(websocket: WebSocket) -> None:
    await serve_support(realtime_of(websocket), websocket, websocket.cookies.get(SESSION_COOKIE))


async def serve_support(realtime: Realtime, websocket: WebSocket, token: str | None) -> None:
    """``token`` is the staff session cookie's."""
    opened = await staff_handshake(realtime, websocket, token, SUPPORT_MESSAGES, may_look_up)
    if opened is not None:
        await SupportSession(realtime, *opened, remembered_language(websocket)).run()


class SupportSession(Session):
    hello = SupportHello
    kind = "support"
    checks_before_hello = True  # the login is known from the handshake's cookie

    def __init__(
        self, realtime: Realtime, socket: JsonSocket, token: str, login: Login, language: str
    ) -> None:
        super().__init__(realtime, socket)
        self.token = token
        self.login = login
        self.language = language  # the page's choice: the view comes in the page's language
        self.participant_id = ""
        self.appointment_id = ""
        self.shown: SupportUpdate | None = None  # the last view sent, not sent twice

    def channels(self) -> tuple[str, ...]:
        return (staff_channel(self.login.user.id),)

    async def started(self) -> None:
        self.stack.callback(self.realtime.presence.listen(self._presence))
        self.arm(self.login.expires_at)

    def _presence(self, change: Change) -> None:
        if change.participant_id == self.participant_id and self.inbox is not None:
            notice = PresenceChanged(change.appointment_id, change.participant_id, change.entered)
            self.inbox.put(FromBus(notice))

    async def greet(self, hello: ClientMessage) -> Ending | None:
        assert isinstance(hello, SupportHello)
        self.participant_id = hello.participant
        if not await self._send():
            await self.socket.close(CloseCode.FORBIDDEN)
            return Ending.CLOSED
        # The appointment (and so the channel) is known only from that first read; a
        # change made between it and the subscription brings no event, so read again.
        await self.listen(appointment_channel(self.appointment_id))
        if not await self._send():
            await self.socket.close(CloseCode.FORBIDDEN)
            return Ending.CLOSED
        return None

    async def on_event(self, event: Notice) -> Ending | None:
        if isinstance(event, StaffChanged | Resync):
            ending = await self.on_tick()
            if ending is not None or isinstance(event, StaffChanged):
                return ending
        if (
            isinstance(event, ParticipantChanged | PresenceChanged)
            and event.participant_id != self.participant_id
        ):
            return None
        if not await self._send():
            await self.socket.close(CloseCode.FORBIDDEN)
            return Ending.CLOSED
        return None

    async def on_tick(self) -> Ending | None:
        """Close when the login ended or its role no longer looks people up (read again:
        an event, an alarm, the safety re-read)."""
        login = await still_allowed(self.realtime, self.socket, self.token, may_look_up)
        if login is None:
            return Ending.CLOSED
        self.login = login
        return None

    async def _send(self) -> bool:
        """Render and send the participant; ``False`` when they may no longer be shown."""
        ctx = self.realtime.ctx
        now = ctx.clock()
        within = timedelta(hours=ctx.settings.session_hours)
        async with ctx.sessions() as db:
            participant = await support.looked_up(
                db, self.login.user, self.participant_id, now, within
            )
            if participant is None:
                return False
            first = not self.appointment_id
            self.appointment_id = participant.appointment_id
            details = details_of(ctx.settings, self.realtime.presence, participant, now)
            html = render_details(
                details,
                csrf_token=self.login.csrf_token,
                zone=ZoneInfo(participant.appointment.unit.timezone),
                now=now,
                language=self.language,
            )
        if first:
            await self.socket.send(
                SupportWelcome(
                    version=PROTOCOL_VERSION, ping_interval=self.realtime.timing.ping_seconds
                )
            )
        update = SupportUpdate(html=html, problem=details.problem)
        if update != self.shown:  # a resync or a repeated step that changed nothing
            await self.socket.send(update)
            self.shown = update
        return True
