"""The citizen's personal link page (``/v/<token>``).

The token is a capability: whoever holds it sees the appointment, so the page
never puts it into a link, and every answer is ``no-store`` so no cache keeps a
copy. An unknown, malformed or revoked token gets one and the same 404 page —
the answer must not tell a guesser that a token once existed. A cancelled or
past appointment gets a page that explains its state instead of failing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from videotermin import scheduling
from videotermin.domain.appointments import Status, is_over
from videotermin.store.models import Appointment, Unit
from videotermin.web.sessions import Ctx, Db
from videotermin.web.templating import LANGUAGES, NO_STORE, PageRoute, render

router = APIRouter(route_class=PageRoute)

LANGUAGE_COOKIE = "vt_lang"
PRIVATE = {**NO_STORE, "X-Robots-Tag": "noindex, nofollow"}


def _language(request: Request, preferred: str) -> tuple[str, bool]:
    """The page language: an explicit ``?lang=`` choice, then the remembered one, then
    the participant's own; the second value says whether the choice is new."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked, True
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    if remembered in LANGUAGES:
        return remembered, False
    return (preferred if preferred in LANGUAGES else "de"), False


@router.get("/v/{token}")
async def personal_link(token: str, request: Request, ctx: Ctx, db: Db) -> HTMLResponse:
    participant = await scheduling.participant_for_token(db, token)
    if participant is None:
        language, remember = _language(request, "de")
        unit = await db.scalar(select(Unit).where(Unit.is_default.is_(True)))
        response = render(
            "link_unknown.html",
            {"unit": unit, "unit_name": unit.name if unit else "Videotermin"},
            status=404,
            language=language,
            headers=PRIVATE,
        )
    else:
        language, remember = _language(request, participant.language)
        appointment = await db.get_one(Appointment, participant.appointment_id)
        if appointment.status == Status.CANCELLED:
            template = "link_cancelled.html"
        elif is_over(
            appointment.start_at, appointment.duration_minutes, appointment.status, ctx.clock()
        ):
            template = "link_over.html"
        else:
            template = "link.html"
        response = render(
            template,
            {
                "a": appointment,
                "p": participant,
                "unit": appointment.unit,
                "unit_name": appointment.unit.name,
                "zone": ZoneInfo(appointment.unit.timezone),
            },
            language=language,
            headers=PRIVATE,
        )
    if remember:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            path="/",
            secure=ctx.settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )
    return response
