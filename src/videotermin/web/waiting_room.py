"""The virtual waiting room: the citizen's page, and the two WebSockets of the live parts.

- ``GET /v/<token>/warteraum``: the page — self-view, device choice, the
  advisor's message, connection state, support code and hotline. Only while
  the journey allows entering (consent given, window open); otherwise back to
  the personal link, whose page says why.
- ``/ws/v/<token>``: the citizen's presence (:mod:`videotermin.realtime.waiting`).
- ``/ws/staff``: the advisor's live list (:mod:`videotermin.web.staff_feed`).
- ``/ws/call/<appointment id>``: the advisor's side of the call
  (:mod:`videotermin.realtime.call_session`); the citizens' side is ``/ws/v/<token>``.

The router's lifespan starts this app instance's :class:`Realtime` (presence
across instances) and stops it before the app closes the bus.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request, WebSocket
from fastapi.responses import RedirectResponse, Response

from videotermin.domain.support_code import format_support_code
from videotermin.participation import participation_for_token
from videotermin.realtime import timing
from videotermin.realtime.call_session import serve_call
from videotermin.realtime.service import Realtime, realtime_of
from videotermin.realtime.waiting import serve_citizen
from videotermin.web.citizen import PRIVATE, page_language
from videotermin.web.sessions import Ctx, Db
from videotermin.web.staff_feed import serve_staff
from videotermin.web.templating import PageRoute, render


@contextlib.asynccontextmanager
async def realtime_lifespan(app: FastAPI) -> AsyncIterator[None]:
    realtime = Realtime.create(app.state.ctx, timing.current())
    await realtime.start()
    app.state.realtime = realtime
    try:
        yield
    finally:
        await realtime.close()


router = APIRouter(route_class=PageRoute, lifespan=realtime_lifespan)


@router.get("/v/{token}/warteraum", response_model=None)
async def waiting_room(token: str, request: Request, ctx: Ctx, db: Db) -> Response:
    participation = await participation_for_token(db, ctx, token)
    if participation is None or not participation.may_enter:
        return RedirectResponse(f"/v/{token}", status_code=303, headers=PRIVATE)
    participant, appointment = participation.participant, participation.appointment
    return render(
        "waiting_room.html",
        {
            "p": participant,
            "a": appointment,
            "unit": appointment.unit,
            "unit_name": appointment.unit.name,
            "zone": ZoneInfo(appointment.unit.timezone),
            "support_code": format_support_code(participant.support_code),
        },
        language=page_language(request, participant.language)[0],
        headers=PRIVATE,
    )


@router.websocket("/ws/v/{token}")
async def citizen_socket(websocket: WebSocket, token: str) -> None:
    await serve_citizen(realtime_of(websocket), websocket, token)


@router.websocket("/ws/staff")
async def staff_socket(websocket: WebSocket) -> None:
    await serve_staff(realtime_of(websocket), websocket)


@router.websocket("/ws/call/{appointment_id}")
async def call_socket(websocket: WebSocket, appointment_id: str) -> None:
    await serve_call(realtime_of(websocket), websocket, appointment_id)
