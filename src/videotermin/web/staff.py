"""The advisor's pages: login, "Meine Termine", creating and changing appointments,
and the message to the waiting room.

Every change is a POST with the session's CSRF token, runs in its own
transaction through :mod:`videotermin.scheduling`, and answers with a redirect
(post/redirect/get) and a one-time notice; a refused change re-renders the form
with a German message next to each field and has written nothing. Appointments
of other advisors answer 404, exactly like ones that do not exist.

"Meine Termine" and the appointment page are live: each participant row shows
consent, device check and "wartet seit" (:mod:`videotermin.web.staff_rows`),
and the page's script keeps the rows current over ``/ws/staff``
(:mod:`videotermin.web.staff_feed`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin import scheduling
from videotermin.context import AppContext
from videotermin.domain.agenda import agenda_days
from videotermin.domain.appointments import ROLE_LABELS, Role, RuleViolation, is_over
from videotermin.realtime import waiting_message
from videotermin.realtime.events import appointment_changed
from videotermin.realtime.service import realtime_of
from videotermin.store.models import Appointment, Participant, StaffUser, Unit
from videotermin.web import appointment_forms as forms
from videotermin.web.sessions import (
    FLASH_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    Ctx,
    CurrentAdvisor,
    CurrentLogin,
    Db,
    Login,
    LoginForm,
    OptionalLogin,
    authenticate,
    checked_form,
    clear_cookie,
    close_session,
    lock_minutes_left,
    login_csrf_token,
    open_session,
    remember_login_csrf,
    safe_next,
    set_flash,
    set_session_cookie,
)
from videotermin.web.staff_rows import ParticipantLive, live_states
from videotermin.web.templating import NO_STORE, PageExit, PageRoute, message_page, render

router = APIRouter(route_class=PageRoute)

T = TypeVar("T")

FLASH_TEXTS = {
    "created": "Der Termin ist angelegt. Die Einladungen werden jetzt versendet.",
    "rescheduled": "Der Termin ist geändert. Alle Teilnehmenden bekommen eine neue Einladung.",
    "unchanged": "Es wurde nichts geändert: Die Angaben waren schon so eingetragen.",
    "cancelled": "Der Termin ist abgesagt. Alle Teilnehmenden werden per E-Mail benachrichtigt.",
    "added": "Die Person ist hinzugefügt und bekommt eine Einladung.",
    "removed": "Die Person ist entfernt. Ihr persönlicher Link gilt nicht mehr.",
    "resent": "Die Einladung wird erneut versendet, mit einem neuen Link.",
    "message_sent": "Die Nachricht ist jetzt im Warteraum zu sehen.",
    "message_removed": "Die Nachricht im Warteraum ist entfernt.",
    "logged_out": "Sie sind abgemeldet.",
}
ROLES = [(role, ROLE_LABELS[role]) for role in (Role.INTERPRETER, Role.COMPANION, Role.COLLEAGUE)]
LANGUAGES = [("de", "Deutsch"), ("en", "Englisch")]


def _with_flash(
    request: Request, ctx: AppContext, show: Callable[[str | None], HTMLResponse]
) -> HTMLResponse:
    """Render a page with the notice a redirect left behind, and consume that notice."""
    code = request.cookies.get(FLASH_COOKIE)
    response = show(FLASH_TEXTS.get(code or ""))
    if code is not None:
        clear_cookie(response, ctx.settings, FLASH_COOKIE)
    return response


def _redirect(ctx: AppContext, url: str, flash: str | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        set_flash(response, ctx.settings, flash)
    return response


@dataclass(frozen=True)
class StaffView:
    """What every advisor page needs: the request, the app context and who is logged in."""

    request: Request
    ctx: AppContext
    login: Login

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.login.user.unit.timezone)

    def page(self, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        common = {
            **self.login.page_context,
            "zone": self.zone,
            "now": self.ctx.clock(),
            "roles": ROLES,
            "languages": LANGUAGES,
        }
        return _with_flash(
            self.request,
            self.ctx,
            lambda flash: render(
                name, {**common, "flash": flash, **context}, status=status, headers=NO_STORE
            ),
        )

    def live(self, participants: list[Participant]) -> dict[str, ParticipantLive]:
        presence = realtime_of(self.request).presence
        return live_states(self.ctx.settings, presence, participants)

    def not_found(self) -> PageExit:
        return PageExit(
            message_page(
                404,
                "Termin nicht gefunden",
                "Diesen Termin gibt es nicht, oder er gehört nicht zu Ihren Terminen.",
                self.login.user.unit.name,
                next_step=("/termine", "Zu „Meine Termine“"),
                staff=self.login.page_context,
            )
        )

    async def appointment(self, db: AsyncSession, appointment_id: str) -> Appointment:
        """The appointment, if it is this advisor's own (admins may open any)."""
        appointment = await scheduling.get_appointment(db, appointment_id)
        user = self.login.user
        if appointment is None or (appointment.advisor_id != user.id and user.role != "admin"):
            raise self.not_found()
        return appointment

    async def change(
        self,
        appointment_id: str,
        action: Callable[[AsyncSession, Appointment], Awaitable[T]],
    ) -> T:
        """Run one scheduling use case in its own transaction, then wake the outbox."""
        async with self.ctx.sessions() as db, db.begin():
            result = await action(db, await self.appointment(db, appointment_id))
        self.ctx.outbox_wakeup.set()
        return result


def staff_view(request: Request, ctx: Ctx, login: CurrentAdvisor) -> StaffView:
    return StaffView(request, ctx, login)


View = Annotated[StaffView, Depends(staff_view)]


# --- login and logout ----------------------------------------------------------


async def _default_unit_name(db: AsyncSession) -> str:
    name = await db.scalar(select(Unit.name).where(Unit.is_default.is_(True)))
    return name or "Videotermin"


async def _login_page(
    request: Request,
    ctx: AppContext,
    db: AsyncSession,
    *,
    next_path: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = login_csrf_token(request)
    unit_name = await _default_unit_name(db)
    context = {
        "unit_name": unit_name,
        "csrf_token": token,
        "next": next_path,
        "values": values or {},
        "errors": errors or {},
    }
    response = _with_flash(
        request,
        ctx,
        lambda flash: render("login.html", {**context, "flash": flash}, status=status),
    )
    response.headers.update(headers or {})
    remember_login_csrf(response, ctx.settings, token)
    return response


def _lock_message(locked_until: datetime, ctx: AppContext, zone: ZoneInfo) -> str:
    minutes = lock_minutes_left(locked_until, ctx.clock())
    until = locked_until.astimezone(zone).strftime("%H:%M")
    span = "1 Minute" if minutes == 1 else f"{minutes} Minuten"
    return (
        "Zu viele fehlgeschlagene Anmeldeversuche: Die Anmeldung ist für "
        f"{span} gesperrt (bis {until} Uhr). Bitte versuchen Sie es danach noch einmal."
    )


@router.get("/")
async def home(login: OptionalLogin) -> RedirectResponse:
    return RedirectResponse("/termine" if login else "/login", status_code=303)


@router.get("/login", response_model=None)
async def login_form(
    request: Request,
    ctx: Ctx,
    db: Db,
    login: OptionalLogin,
    next_path: Annotated[str, Query(alias="next")] = "",
) -> Response:
    if login is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return await _login_page(request, ctx, db, next_path=safe_next(next_path))


@router.post("/login", response_model=None)
async def login_submit(request: Request, ctx: Ctx, db: Db, form: LoginForm) -> Response:
    values = forms.form_values(form)
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    username = values.get("username", "")
    next_path = safe_next(values.get("next"))
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "Bitte geben Sie Ihren Benutzernamen an."
    if not password:
        errors["password"] = "Bitte geben Sie Ihr Passwort an."
    if errors:
        return await _login_page(
            request, ctx, db, next_path=next_path, values=values, errors=errors, status=422
        )
    async with ctx.sessions() as session, session.begin():
        attempt = await authenticate(session, ctx, username, password)
        if attempt.user is not None:
            token = await open_session(
                session, ctx, attempt.user, request.cookies.get(SESSION_COOKIE)
            )
    if attempt.user is not None:
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookie(response, ctx.settings, token)
        clear_cookie(response, ctx.settings, LOGIN_CSRF_COOKIE)
        return response
    if attempt.locked_until is not None:
        zone = ZoneInfo(ctx.settings.timezone)
        retry = str(lock_minutes_left(attempt.locked_until, ctx.clock()) * 60)
        return await _login_page(
            request,
            ctx,
            db,
            next_path=next_path,
            values={"username": username},
            errors={forms.GENERAL: _lock_message(attempt.locked_until, ctx, zone)},
            status=429,
            headers={"Retry-After": retry},
        )
    return await _login_page(
        request,
        ctx,
        db,
        next_path=next_path,
        values={"username": username},
        errors={
            forms.GENERAL: "Benutzername oder Passwort stimmen nicht. "
            "Bitte prüfen Sie Ihre Eingabe und versuchen Sie es noch einmal."
        },
    )


@router.post("/logout", dependencies=[Depends(checked_form)])
async def logout(request: Request, ctx: Ctx, login: CurrentLogin) -> RedirectResponse:
    """Ends the session in the table, so the old cookie stops working everywhere at once."""
    async with ctx.sessions() as session, session.begin():
        await close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = _redirect(ctx, "/login", "logged_out")
    clear_cookie(response, ctx.settings, SESSION_COOKIE)
    return response


# --- "Meine Termine" and creating ------------------------------------------------


@router.get("/termine")
async def agenda(view: View, db: Db) -> HTMLResponse:
    now, zone = view.ctx.clock(), view.zone
    today = now.astimezone(zone).date()
    since = datetime.combine(today, time(0), tzinfo=zone)
    items = await scheduling.appointments_of(db, view.login.user, since)
    live = view.live([p for a in items for p in a.participants if p.active])
    return view.page(
        "agenda.html", {"days": agenda_days(items, now, zone), "today": today, "live": live}
    )


def _new_form_page(
    view: StaffView, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return view.page(
        "appointment_new.html",
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
        advisor = await db.get_one(StaffUser, view.login.user.id)
        appointment, _links = await scheduling.create_appointment(
            db,
            view.ctx,
            advisor=advisor,
            start=draft.start,
            duration_minutes=draft.duration_minutes,
            subject=draft.subject,
            participants=draft.participants,
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
            return _redirect(view.ctx, f"/termine/{appointment.id}", "created")
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
        "appointment.html",
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
                ),
            )
        except RuleViolation as refused:
            errors.add_all(refused.errors, forms.reschedule_rename)
        else:
            if links:
                await appointment_changed(view.ctx, appointment_id)
            flash = "rescheduled" if links else "unchanged"
            return _redirect(view.ctx, f"/termine/{appointment_id}", flash)
    return await _appointment_page(view, db, appointment_id, values, errors.ordered())


@router.get("/termine/{appointment_id}/absagen", response_model=None)
async def cancel_confirmation(appointment_id: str, view: View, db: Db) -> Response:
    appointment = await view.appointment(db, appointment_id)
    if appointment.status != "scheduled":
        return RedirectResponse(f"/termine/{appointment_id}", status_code=303)
    return view.page("appointment_cancel.html", {"a": appointment})


@router.post(
    "/termine/{appointment_id}/absagen", response_model=None, dependencies=[Depends(checked_form)]
)
async def cancel(appointment_id: str, view: View, db: Db) -> Response:
    try:
        await view.change(appointment_id, lambda s, a: scheduling.cancel(s, view.ctx, a))
    except RuleViolation as refused:
        return await _appointment_page(view, db, appointment_id, errors=_general_errors(refused))
    await appointment_changed(view.ctx, appointment_id)
    return _redirect(view.ctx, f"/termine/{appointment_id}", "cancelled")


@router.post("/termine/{appointment_id}/teilnehmende", response_model=None)
async def add_participant(appointment_id: str, view: View, db: Db, form: CheckedForm) -> Response:
    values = forms.form_values(form)
    draft = forms.new_participant_draft(values)
    try:
        await view.change(
            appointment_id, lambda s, a: scheduling.add_participant(s, view.ctx, a, draft)
        )
    except RuleViolation as refused:
        errors = forms.FormErrors(forms.ADD_ORDER)
        errors.add_all(refused.errors, forms.add_rename)
        return await _appointment_page(view, db, appointment_id, values, errors.ordered())
    return _redirect(view.ctx, f"/termine/{appointment_id}", "added")


@router.get("/termine/{appointment_id}/teilnehmende/{participant_id}/entfernen")
async def remove_confirmation(
    appointment_id: str, participant_id: str, view: View, db: Db
) -> HTMLResponse:
    appointment = await view.appointment(db, appointment_id)
    participant = _participant(view, appointment, participant_id)
    return view.page("participant_remove.html", {"a": appointment, "p": participant})


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
                s, view.ctx, a, _participant(view, a, participant_id)
            ),
        )
    except RuleViolation as refused:
        return await _appointment_page(view, db, appointment_id, errors=_general_errors(refused))
    return _redirect(view.ctx, f"/termine/{appointment_id}", "removed")


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
                s, view.ctx, a, _participant(view, a, participant_id)
            ),
        )
    except RuleViolation as refused:
        return await _appointment_page(view, db, appointment_id, errors=_general_errors(refused))
    return _redirect(view.ctx, back, "resent")


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
    too_long = waiting_message.problem(text)
    if too_long is not None:
        errors["waiting_message"] = too_long
    else:
        async with view.ctx.sessions() as session, session.begin():
            appointment = await view.appointment(session, appointment_id)
            if appointment.status != "scheduled" or is_over(
                appointment.start_at,
                appointment.duration_minutes,
                appointment.status,
                view.ctx.clock(),
            ):
                errors[forms.GENERAL] = "Der Termin ist vorbei oder abgesagt: Niemand wartet mehr."
            else:
                waiting_message.store(view.ctx, appointment, text)
    if errors:
        return await _appointment_page(view, db, appointment_id, {"waiting_message": text}, errors)
    await waiting_message.announce(view.ctx, appointment_id)
    return _redirect(view.ctx, back, "message_sent" if text else "message_removed")
