"""The advisor's appointment pages: "Meine Termine", creating and changing appointments,
and the message to the waiting room.

Every change is a POST with the session's CSRF token, runs in its own
transaction through :mod:`videotermin.services.appointments`, and answers with a redirect
(post/redirect/get) and a one-time notice; a refused change re-renders the form
with a message next to each field (a German msgid, shown in the reader's language)
and has written nothing. Appointments of other advisors answer 404, exactly like
ones that do not exist.

"Meine Termine" and the appointment page are live: each participant row shows
consent, device check and "wartet seit" (:mod:`videotermin.web.staff.rows`),
and the page's script keeps the rows current over ``/ws/staff``
(:mod:`videotermin.web.staff.live`).
"""

from __future__ import annotations

from datetime import datetime, time

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.bus.events import appointment_changed, participant_changed
from videotermin.domain.agenda import agenda_days
from videotermin.domain.appointments import RuleViolation, Status, is_over
from videotermin.domain.text import N_
from videotermin.services import appointments as scheduling
from videotermin.services import waiting_message
from videotermin.store.models import Appointment, Participant
from videotermin.web.cookies import safe_next
from videotermin.web.deps import CheckedForm, Db, checked_form
from videotermin.web.staff import forms
from videotermin.web.staff.view import StaffView, View, redirect
from videotermin.web.templating import PageRoute

router = APIRouter(route_class=PageRoute)


# --- "Meine Termine" and creating ------------------------------------------------


@router.get("/termine")
async def agenda(view: View, db: Db) -> HTMLResponse:
    now, zone = view.ctx.clock(), view.zone
    today = now.astimezone(zone).date()
    since = datetime.combine(today, time(0), tzinfo=zone)
    items = await scheduling.appointments_of(db, view.login.user, since)
    live = view.live([p for a in items for p in a.participants if p.active])
    return view.page(
        "staff/agenda.html", {"days": agenda_days(items, now, zone), "today": today, "live": live}
    )


def _new_form_page(
    view: StaffView, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return view.page(
        "staff/appointment_new.html",
        {
            "values": values,
            "errors": errors,
            "extra_rows": forms.EXTRA_ROW_NAMES,
            "default_duration": view.ctx.settings.default_duration_minutes,
        },
        status,
    )


@router.get("/termine/neu")
async def new_appointment_form(view: View) -> HTMLResponse:
    return _new_form_page(view, {}, {})


async def _create(view: StaffView, draft: forms.NewAppointment) -> Appointment:
    async with view.ctx.sessions() as db, db.begin():
        advisor = await scheduling.advisor_by_id(db, view.login.user.id)
        appointment, _links = await scheduling.create_appointment(
            db,
            view.ctx,
            advisor=advisor,
            start=draft.start,
            duration_minutes=draft.duration_minutes,
            subject=draft.subject,
            participants=draft.participants,
            actor=view.actor,
        )
    view.ctx.outbox_wakeup.set()
    return appointment


@router.post("/termine/neu", response_model=None)
async def create_appointment(view: View, form: CheckedForm) -> Response:
    values = forms.form_values(form)
    draft, errors, rename = forms.parse_new_appointment(values, view.zone)
    if draft is not None:
        try:
            appointment = await _create(view, draft)
        except RuleViolation as refused:
            errors.add_all(refused.errors, rename)
        else:
            return redirect(view.ctx, f"/termine/{appointment.id}", "created")
    return _new_form_page(view, values, errors.ordered(), 422)


# --- one appointment ---------------------------------------------------------------


async def _appointment_page(
    view: StaffView,
    db: AsyncSession,
    appointment_id: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    appointment = await view.appointment(db, appointment_id)
    participants = [p for p in appointment.participants if p.active]
    return view.page(
        "staff/appointment.html",
        {
            "a": appointment,
            "participants": participants,
            "live": view.live(participants),
            "values": values or {},
            "errors": errors or {},
        },
        422 if errors else 200,
    )


def _general_errors(refused: RuleViolation) -> dict[str, str]:
    errors = forms.FormErrors((forms.GENERAL,))
    errors.add_all(refused.errors, lambda _path: forms.GENERAL)
    return errors.ordered()


def _participant(view: StaffView, appointment: Appointment, participant_id: str) -> Participant:
    participant = scheduling.find_participant(appointment, participant_id)
    if participant is None:
        raise view.not_found()
    return participant


@router.get("/termine/{appointment_id}")
async def appointment_page(appointment_id: str, view: View, db: Db) -> HTMLResponse:
    return await _appointment_page(view, db, appointment_id)


@router.post("/termine/{appointment_id}/verschieben", response_model=None)
async def reschedule(appointment_id: str, view: View, db: Db, form: CheckedForm) -> Response:
    values = forms.form_values(form)
    change, errors = forms.parse_reschedule(values, view.zone)
    if change is not None:
        try:
            links = await view.change(
                appointment_id,
                lambda s, a: scheduling.reschedule(
                    s,
                    view.ctx,
                    a,
                    start=change.start,
                    duration_minutes=change.duration_minutes,
                    subject=change.subject,
                    actor=view.actor,
                ),
            )
        except RuleViolation as refused:
            errors.add_all(refused.errors, forms.reschedule_rename)
        else:
            if links:
                await appointment_changed(view.ctx.bus, appointment_id)
            flash = "rescheduled" if links else "unchanged"
            return redirect(view.ctx, f"/termine/{appointment_id}", flash)
    return await _appointment_page(view, db, appointment_id, values, errors.ordered())


@router.get("/termine/{appointment_id}/absagen", response_model=None)
async def cancel_confirmation(appointment_id: str, view: View, db: Db) -> Response:
    appointment = await view.appointment(db, appointment_id)
    if appointment.status != Status.SCHEDULED:
        return RedirectResponse(f"/termine/{appointment_id}", status_code=303)
    return view.page("staff/appointment_cancel.html", {"a": appointment})


@router.post(
    "/termine/{appointment_id}/absagen", response_model=None, dependencies=[Depends(checked_form)]
)
async def cancel(appointment_id: str, view: View, db: Db) -> Response:
    try:
        await view.change(
            appointment_id, lambda s, a: scheduling.cancel(s, view.ctx, a, view.actor)
        )
    except RuleViolation as refused:
        return await _appointment_page(view, db, appointment_id, errors=_general_errors(refused))
    await appointment_changed(view.ctx.bus, appointment_id)
    return redirect(view.ctx, f"/termine/{appointment_id}", "cancelled")


@router.post("/termine/{appointment_id}/teilnehmende", response_model=None)
async def add_participant(appointment_id: str, view: View, db: Db, form: CheckedForm) -> Response:
    values = forms.form_values(form)
    draft = forms.new_participant_draft(values)
    try:
        issued = await view.change(
            appointment_id,
            lambda s, a: scheduling.add_participant(s, view.ctx, a, draft, view.actor),
        )
    except RuleViolation as refused:
        errors = forms.FormErrors(forms.ADD_ORDER)
        errors.add_all(refused.errors, forms.add_rename)
        return await _appointment_page(view, db, appointment_id, values, errors.ordered())
    await participant_changed(view.ctx.bus, appointment_id, issued.participant.id)
    return redirect(view.ctx, f"/termine/{appointment_id}", "added")


@router.get("/termine/{appointment_id}/teilnehmende/{participant_id}/entfernen")
async def remove_confirmation(
    appointment_id: str, participant_id: str, view: View, db: Db
) -> HTMLResponse:
    appointment = await view.appointment(db, appointment_id)
    participant = _participant(view, appointment, participant_id)
    return view.page("staff/participant_remove.html", {"a": appointment, "p": participant})


@router.post(
    "/termine/{appointment_id}/teilnehmende/{participant_id}/entfernen",
    response_model=None,
    dependencies=[Depends(checked_form)],
)
async def remove_participant(
    appointment_id: str, participant_id: str, view: View, db: Db
) -> Response:
    try:
        await view.change(
            appointment_id,
            lambda s, a: scheduling.remove_participant(
                s, view.ctx, a, _participant(view, a, participant_id), view.actor
            ),
        )
    except RuleViolation as refused:
        return await _appointment_page(view, db, appointment_id, errors=_general_errors(refused))
    # Their open connections end, and every advisor's page drops their row, at once.
    await participant_changed(view.ctx.bus, appointment_id, participant_id)
    return redirect(view.ctx, f"/termine/{appointment_id}", "removed")


@router.post(
    "/termine/{appointment_id}/teilnehmende/{participant_id}/einladung", response_model=None
)
async def resend_invitation(
    appointment_id: str, participant_id: str, view: View, db: Db, form: CheckedForm
) -> Response:
    back = safe_next(forms.form_values(form).get("back"), f"/termine/{appointment_id}")
    try:
        await view.change(
            appointment_id,
            lambda s, a: scheduling.resend_invitation(
                s, view.ctx, a, _participant(view, a, participant_id), view.actor
            ),
        )
    except RuleViolation as refused:
        return await _appointment_page(view, db, appointment_id, errors=_general_errors(refused))
    return redirect(view.ctx, back, "resent")


# --- the waiting room ---------------------------------------------------------------


@router.post("/termine/{appointment_id}/warteraum-nachricht", response_model=None)
async def post_waiting_message(
    appointment_id: str, view: View, db: Db, form: CheckedForm
) -> Response:
    """Store the message and tell the waiting room; an empty message removes it."""
    values = forms.form_values(form)
    text = waiting_message.clean(str(form.get("waiting_message") or ""))
    back = safe_next(values.get("back"), f"/termine/{appointment_id}")
    errors: dict[str, str] = {}
    refused = waiting_message.problem(text)
    if refused is not None:
        errors["waiting_message"] = refused
    else:
        async with view.ctx.sessions() as session, session.begin():
            appointment = await view.appointment(session, appointment_id)
            if appointment.status != Status.SCHEDULED or is_over(
                appointment.start_at,
                appointment.duration_minutes,
                appointment.status,
                view.ctx.clock(),
            ):
                errors[forms.GENERAL] = N_(
                    "Der Termin ist vorbei oder abgesagt: Niemand wartet mehr."
                )
            else:
                waiting_message.store(view.ctx, appointment, text)
    if errors:
        return await _appointment_page(view, db, appointment_id, {"waiting_message": text}, errors)
    await waiting_message.announce(view.ctx, appointment_id)
    return redirect(view.ctx, back, "message_sent" if text else "message_removed")
