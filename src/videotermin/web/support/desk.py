"""The support desk's pages: ``/support`` (type the code a caller reads out) and
``/support/teilnehmende/<id>`` (that participant, kept up to date by the live feed).

The rules and the audit are :mod:`videotermin.services.support`'s; this module turns
them into the form, its messages (German msgids, shown in the page's language) and the
redirect after a look-up, so a reload shows the participant again without a second
look-up.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from videotermin.domain.appointments import RuleViolation
from videotermin.domain.text import N_, Text
from videotermin.services import appointments as scheduling
from videotermin.services import support
from videotermin.services.audit import staff_actor
from videotermin.services.staff_auth import Login
from videotermin.store.models import Participant
from videotermin.web.deps import CheckedForm, Ctx, CurrentSupport, Db, realtime_of
from videotermin.web.language import chosen_language
from videotermin.web.staff import forms
from videotermin.web.staff.view import redirect, staff_page
from videotermin.web.support.details import details_of, render_details
from videotermin.web.templating import PageExit, PageRoute, message_page

router = APIRouter(route_class=PageRoute)

_REFUSALS = {
    support.Outcome.MALFORMED: N_(
        "Das ist kein Support-Code. Ein Code hat sechs Zeichen, "
        "zum Beispiel „K7P-3XM“; Groß- und Kleinschreibung, Leerzeichen und Bindestriche "
        "sind egal."
    ),
    support.Outcome.UNKNOWN: N_(
        "Zu diesem Code gibt es keinen aktuellen Termin. Bitte lassen "
        "Sie sich den Code noch einmal vorlesen. Nach der Löschfrist gilt ein Code nicht mehr."
    ),
    support.Outcome.OTHER_UNIT: N_(
        "Dieser Code gehört zu einem Termin einer anderen "
        "Dienststelle. Bitte verweisen Sie die anrufende Person an deren Hotline."
    ),
}


@router.get("/support")
async def search_form(request: Request, ctx: Ctx, login: CurrentSupport) -> HTMLResponse:
    return staff_page(request, ctx, login, "support/lookup.html", {"values": {}, "errors": {}})


@router.post("/support", response_model=None)
async def search(request: Request, ctx: Ctx, login: CurrentSupport, form: CheckedForm) -> Response:
    values = forms.form_values(form)
    found = await support.look_up(ctx, login.user, values.get("code", "")[:40])
    if found.participant_id is not None:
        return RedirectResponse(f"/support/teilnehmende/{found.participant_id}", status_code=303)
    if found.outcome is support.Outcome.TOO_MANY:
        message = Text(
            "Sie haben in der letzten Minute sehr viele Codes nachgeschlagen. Bitte warten "
            "Sie %(seconds)s Sekunden und versuchen Sie es dann noch einmal.",
            seconds=found.retry_after,
        )
        return staff_page(
            request,
            ctx,
            login,
            "support/lookup.html",
            {"values": values, "errors": {"code": message}},
            429,
            {"Retry-After": str(found.retry_after)},
        )
    errors = {"code": _REFUSALS[found.outcome]}
    return staff_page(
        request, ctx, login, "support/lookup.html", {"values": values, "errors": errors}, 422
    )


def _not_found(request: Request, login: Login) -> PageExit:
    return PageExit(
        message_page(
            404,
            N_("Keine Person zum Anzeigen"),
            N_(
                "Diese Person ist nicht (mehr) zu sehen: Schlagen Sie ihren Support-Code bitte "
                "neu nach. Nach der Löschfrist oder einem Widerruf gilt ein Code nicht mehr."
            ),
            login.user.unit.name,
            next_step=("/support", N_("Zur Suche")),
            staff=login.page_context,
            language=chosen_language(request),
        )
    )


async def _looked_up(
    request: Request, ctx: Ctx, db: Db, login: Login, participant_id: str
) -> Participant:
    within = timedelta(hours=ctx.settings.session_hours)
    found = await support.looked_up(db, login.user, participant_id, ctx.clock(), within)
    if found is None:
        raise _not_found(request, login)
    return found


@router.get("/support/teilnehmende/{participant_id}")
async def participant_page(
    participant_id: str, request: Request, ctx: Ctx, db: Db, login: CurrentSupport
) -> HTMLResponse:
    participant = await _looked_up(request, ctx, db, login, participant_id)
    now, zone = ctx.clock(), ZoneInfo(participant.appointment.unit.timezone)
    details = details_of(ctx.settings, realtime_of(request).presence, participant, now)
    html = render_details(
        details,
        csrf_token=login.csrf_token,
        zone=zone,
        now=now,
        language=chosen_language(request),
    )
    return staff_page(
        request, ctx, login, "support/participant.html", {"p": participant, "details_html": html}
    )


@router.post("/support/teilnehmende/{participant_id}/einladung", response_model=None)
async def resend(
    participant_id: str, request: Request, ctx: Ctx, db: Db, login: CurrentSupport, _: CheckedForm
) -> Response:
    """The one thing support may change: send the invitation again (a new link, by mail)."""
    participant = await _looked_up(request, ctx, db, login, participant_id)
    back = f"/support/teilnehmende/{participant_id}"
    async with ctx.sessions() as session, session.begin():
        appointment = await scheduling.get_appointment(session, participant.appointment_id)
        current = scheduling.find_participant(appointment, participant_id) if appointment else None
        if appointment is None or current is None:
            raise _not_found(request, login)
        try:
            await scheduling.resend_invitation(
                session, ctx, appointment, current, staff_actor(login.user.id)
            )
        except RuleViolation:
            return redirect(ctx, back, "resend_refused")
    ctx.outbox_wakeup.set()
    return redirect(ctx, back, "resent")
