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
own macro (:mod:`videotermin.web.staff.rows`). The session is checked again
every ``recheck_seconds``: after logout the socket closes.
"""

from __future__ import annotations

import contextlib
import time
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from sqlalchemy import select
from starlette.websockets import WebSocket

from videotermin.bus.core import Event
from videotermin.bus.events import appointment_channel
from videotermin.domain.staff import ADVISOR_ROLES
from videotermin.realtime.connection import (
    FromBus,
    FromClient,
    Gone,
    Inbox,
    JsonSocket,
    Tick,
    same_origin,
)
from videotermin.realtime.presence import Change
from videotermin.realtime.protocol import (
    PROTOCOL_VERSION,
    STAFF_MESSAGES,
    ClientMessage,
    CloseCode,
    Error,
    ErrorCode,
    ParticipantUpdate,
    Ping,
    Pong,
    ProtocolError,
    StaffHello,
    StaffWelcome,
)
from videotermin.realtime.service import Realtime
from videotermin.services.staff_auth import Login, find_login
from videotermin.store.models import Appointment, Participant
from videotermin.web.cookies import SESSION_COOKIE
from videotermin.web.deps import realtime_of
from videotermin.web.staff.rows import View, entered_notice, live_states, render_row

router = APIRouter()

PRESENCE_EVENT = "presence_changed"
"""Presence changes reach the session through its inbox like bus events, by this type."""


async def _login(realtime: Realtime, token: str | None) -> Login | None:
    async with realtime.ctx.sessions() as db:
        return await find_login(db, token, realtime.ctx.clock())


@router.websocket("/ws/staff")
async def staff_socket(websocket: WebSocket) -> None:
    await serve_staff(realtime_of(websocket), websocket, websocket.cookies.get(SESSION_COOKIE))


async def serve_staff(realtime: Realtime, websocket: WebSocket, token: str | None) -> None:
    """``token`` is the staff session cookie's."""
    if not same_origin(websocket, realtime.ctx.settings.public_url):
        await websocket.close(code=CloseCode.FORBIDDEN, reason=CloseCode.FORBIDDEN.reason)
        return
    login = await _login(realtime, token)
    await websocket.accept()
    socket = JsonSocket(websocket, STAFF_MESSAGES)
    if login is None or token is None:
        await socket.close(CloseCode.LOGIN_REQUIRED)
        return
    if login.user.role not in ADVISOR_ROLES:
        await socket.close(CloseCode.FORBIDDEN)
        return
    await StaffSession(realtime, socket, token, login).run()


class StaffSession:
    def __init__(self, realtime: Realtime, socket: JsonSocket, token: str, login: Login) -> None:
        self.realtime = realtime
        self.socket = socket
        self.token = token
        self.login = login
        self.zone = ZoneInfo(login.user.unit.timezone)
        self.watching: frozenset[str] = frozenset()
        self.view: View = "agenda"
        self.greeted = False
        self.opened = time.monotonic()

    async def run(self) -> None:
        timing = self.realtime.timing
        async with contextlib.AsyncExitStack() as stack:
            inbox = await stack.enter_async_context(
                Inbox(
                    self.socket,
                    idle_seconds=timing.idle_seconds,
                    tick_seconds=timing.recheck_seconds,
                )
            )
            stack.callback(
                self.realtime.presence.listen(lambda change: self._presence(inbox, change))
            )
            await self._serve(inbox, stack)

    def _presence(self, inbox: Inbox, change: Change) -> None:
        if change.appointment_id in self.watching:
            inbox.put(
                FromBus(
                    {
                        "type": PRESENCE_EVENT,
                        "appointment_id": change.appointment_id,
                        "participant_id": change.participant_id,
                        "entered": change.entered,
                    }
                )
            )

    async def _serve(self, inbox: Inbox, stack: contextlib.AsyncExitStack) -> None:
        while True:
            item = await inbox.get()
            if isinstance(item, Gone):
                if item.silent:
                    await self.socket.close(CloseCode.TIMEOUT)
                return
            if isinstance(item, FromClient):
                if not await self._on_client(item.message, inbox, stack):
                    return
            elif isinstance(item, FromBus):
                await self._on_event(item.event)
            else:
                assert isinstance(item, Tick)
                if not await self._on_tick():
                    return

    # --- client messages -----------------------------------------------------------

    async def _on_client(
        self,
        message: ClientMessage | ProtocolError,
        inbox: Inbox,
        stack: contextlib.AsyncExitStack,
    ) -> bool:
        """Handle one message; ``False`` when the connection has been closed."""
        if isinstance(message, ProtocolError):
            await self.socket.send(Error.of(message))
        elif isinstance(message, StaffHello):
            return await self._on_hello(message, inbox, stack)
        elif isinstance(message, Ping):
            if self.greeted:
                await self.socket.send(Pong(id=message.id))
            else:
                await self.socket.refuse(ErrorCode.HELLO_REQUIRED, "say hello first", "ping")
        return True

    async def _on_hello(
        self, hello: StaffHello, inbox: Inbox, stack: contextlib.AsyncExitStack
    ) -> bool:
        if self.greeted:
            await self.socket.refuse(ErrorCode.ALREADY_GREETED, "hello was already said", "hello")
            return True
        if await self.socket.refuse_version(hello.version):
            return False
        self.greeted = True
        self.view = hello.view
        self.watching = frozenset(await self._own(hello.watch))
        if self.watching:
            events = await stack.enter_async_context(
                self.realtime.ctx.bus.subscribe(*map(appointment_channel, sorted(self.watching)))
            )
            inbox.follow(events)
        await self.socket.send(
            StaffWelcome(
                version=PROTOCOL_VERSION,
                ping_interval=self.realtime.timing.ping_seconds,
                watching=sorted(self.watching),
            )
        )
        await self._send_all()  # whatever changed between the page and this socket
        return True

    async def _own(self, appointment_ids: list[str]) -> list[str]:
        """The asked-for appointments this login may see; others are left out silently,
        exactly like appointments that do not exist."""
        if not appointment_ids:
            return []
        query = select(Appointment.id).where(Appointment.id.in_(set(appointment_ids)))
        if self.login.user.role != "admin":
            query = query.where(Appointment.advisor_id == self.login.user.id)
        async with self.realtime.ctx.sessions() as db:
            return list(await db.scalars(query))

    def _may_see(self, appointment: Appointment) -> bool:
        """Asked again for every row: an appointment handed to another advisor goes quiet."""
        user = self.login.user
        return user.role == "admin" or appointment.advisor_id == user.id

    # --- events and time -----------------------------------------------------------------

    async def _on_event(self, event: Event) -> None:
        kind = event.get("type")
        if kind == "resync":
            await self._send_all()
            return
        if kind not in ("participant_changed", PRESENCE_EVENT):
            return
        appointment_id, participant_id = event.get("appointment_id"), event.get("participant_id")
        if isinstance(appointment_id, str) and isinstance(participant_id, str):
            await self._send_row(
                appointment_id, participant_id, entered=event.get("entered") is True
            )

    async def _on_tick(self) -> bool:
        """Close when the login ended or ``hello`` never came; ``False`` then."""
        if not self.greeted and time.monotonic() - self.opened > self.realtime.timing.hello_seconds:
            await self.socket.close(CloseCode.TIMEOUT)
            return False
        if await _login(self.realtime, self.token) is None:
            await self.socket.close(CloseCode.LOGIN_REQUIRED)
            return False
        return True

    async def _send_all(self) -> None:
        async with self.realtime.ctx.sessions() as db:
            rows = await db.execute(
                select(Participant.appointment_id, Participant.id).where(
                    Participant.appointment_id.in_(self.watching)
                )
            )
            pairs = [(row.appointment_id, row.id) for row in rows]
        for appointment_id, participant_id in pairs:
            await self._send_row(appointment_id, participant_id, entered=False)

    async def _send_row(self, appointment_id: str, participant_id: str, *, entered: bool) -> None:
        if appointment_id not in self.watching:
            return
        ctx = self.realtime.ctx
        async with ctx.sessions() as db:
            appointment = await db.get(Appointment, appointment_id)
            participant = await db.get(Participant, participant_id)
            if appointment is None or not self._may_see(appointment):
                self.watching = self.watching - {appointment_id}
                return
            if participant is None or participant.appointment_id != appointment_id:
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
                )
                if entered and since is not None:
                    notice = entered_notice(appointment, participant, self.zone)
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
