"""The virtual waiting room: the citizen's page and the citizen's WebSocket.

- ``GET /v/<token>/warteraum``: the page — self-view, device choice, the
  advisor's message, connection state, support code and hotline. Only while
  the journey allows entering (consent given, window open); otherwise back to
  the personal link, whose page says why.
- ``/ws/v/<token>``: the citizen's presence and, once admitted, their side of the
  call (:mod:`videotermin.realtime.waiting`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import RedirectResponse, Response

from videotermin.domain.support_code import format_support_code
from videotermin.realtime.waiting import serve_citizen
from videotermin.services.participation import participation_for_token
from videotermin.web.citizen.link import PRIVATE
from videotermin.web.deps import Ctx, Db, realtime_of
from videotermin.web.language import page_language
from videotermin.web.templating import PageRoute, render

router = APIRouter(route_class=PageRoute)


@router.get("/v/{token}/warteraum", response_model=None)
async def waiting_room(token: str, request: Request, ctx: Ctx, db: Db) -> Response:
    participation = await participation_for_token(db, ctx, token)
    if participation is None or not participation.may_enter:
        return RedirectResponse(f"/v/{token}", status_code=303, headers=PRIVATE)
    participant, appointment = participation.participant, participation.appointment
    return render(
        "citizen/waiting_room.html",
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


async def citizen_socket(websocket: WebSocket, token: str) -> None:
    await serve_citizen(realtime_of(websocket), websocket, token)
