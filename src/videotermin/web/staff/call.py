"""The advisor's call page (``GET /appointments/<id>/call``).

The page holds the advisor's side of the call: the live waiting list with
"Abholen" per person and "Alle abholen", the call grid and controls,
"Entfernen" per participant and "Gespräch für alle beenden". Everything live
runs over ``/ws/call/<id>`` (static/js/call_page.js); the server authorises
each action there again, so this page only decides who may see it: the
appointment's own advisor, or an admin (others get the same 404 as an unknown
appointment). ``?admit=<participant id>`` (the "Abholen" link of the
appointment page) admits that person once the socket is open.

``/ws/call/<appointment id>`` is the advisor's side of the call
(:mod:`videotermin.realtime.call_session`); the citizens' side is ``/ws/v/<token>``.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket
from fastapi.responses import HTMLResponse

from videotermin.domain.appointments import Status, is_over
from videotermin.domain.text import N_
from videotermin.realtime.call_session import serve_call
from videotermin.web.cookies import SESSION_COOKIE
from videotermin.web.deps import Db, realtime_of
from videotermin.web.language import chosen_language
from videotermin.web.staff.view import View
from videotermin.web.templating import PageRoute, message_page

router = APIRouter(route_class=PageRoute)


@router.get("/appointments/{appointment_id}/call")
async def call_page(appointment_id: str, view: View, db: Db, admit: str = "") -> HTMLResponse:
    appointment = await view.appointment(db, appointment_id)
    if is_over(
        appointment.start_at, appointment.duration_minutes, appointment.status, view.ctx.clock()
    ):
        ended = (
            N_("Dieser Termin ist abgesagt. Ein Gespräch kann nicht mehr beginnen.")
            if appointment.status == Status.CANCELLED
            else N_("Dieser Termin ist beendet. Ein Gespräch kann nicht mehr beginnen.")
        )
        return message_page(
            409,
            N_("Kein Gespräch möglich"),
            ended,
            view.login.user.unit.name,
            next_step=(f"/termine/{appointment.id}", N_("Zum Termin")),
            staff=view.login.page_context,
            language=chosen_language(view.request),
        )
    return view.page("staff/call.html", {"a": appointment, "admit": admit[:64]})


async def call_socket(websocket: WebSocket, appointment_id: str) -> None:
    await serve_call(
        realtime_of(websocket), websocket, appointment_id, websocket.cookies.get(SESSION_COOKIE)
    )
