"""What every staff page shares: the logged-in view (:class:`StaffView`, ``View``),
the one-time notices after a redirect, and the lists the forms offer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.appointments import ROLE_LABELS, Role
from videotermin.domain.staff import may_see_appointment
from videotermin.domain.text import N_
from videotermin.services import appointments as scheduling
from videotermin.services.audit import Actor, staff_actor
from videotermin.services.staff_auth import Login
from videotermin.store.models import Appointment, Participant
from videotermin.web.cookies import FLASH_COOKIE, clear_cookie, set_flash
from videotermin.web.deps import Ctx, CurrentAdvisor, realtime_of
from videotermin.web.language import (
    chosen_language,
    language_links,
    page_language,
    remember_language,
)
from videotermin.web.staff.rows import ParticipantLive, live_states
from videotermin.web.templating import (
    DEFAULT_LANGUAGE,
    NO_STORE,
    PageExit,
    message_page,
    render,
)

T = TypeVar("T")

FLASH_TEXTS = {
    "created": N_("Der Termin ist angelegt. Die Einladungen werden jetzt versendet."),
    "rescheduled": N_("Der Termin ist geändert. Alle Teilnehmenden bekommen eine neue Einladung."),
    "unchanged": N_("Es wurde nichts geändert: Die Angaben waren schon so eingetragen."),
    "cancelled": N_(
        "Der Termin ist abgesagt. Alle Teilnehmenden werden per E-Mail benachrichtigt."
    ),
    "added": N_("Die Person ist hinzugefügt und bekommt eine Einladung."),
    "removed": N_("Die Person ist entfernt. Ihr persönlicher Link gilt nicht mehr."),
    "resent": N_("Die Einladung wird erneut versendet, mit einem neuen Link."),
    "message_sent": N_("Die Nachricht ist jetzt im Warteraum zu sehen."),
    "message_removed": N_("Die Nachricht im Warteraum ist entfernt."),
    "logged_out": N_("Sie sind abgemeldet."),
    "staff_saved": N_("Das Konto ist gespeichert."),
    "staff_inactive": N_("Dieses Konto ist deaktiviert und kann nicht mehr geändert werden."),
    "staff_deactivated": N_("Das Konto ist deaktiviert. Offene Seiten der Person sind beendet."),
    "password_set": N_("Ihr Passwort ist gesetzt. Bitte melden Sie sich jetzt an."),
    "token_revoked": N_("Der Token ist widerrufen und wird ab sofort abgelehnt."),
    "token_unknown": N_("Diesen Token gibt es nicht oder er ist schon widerrufen."),
    "unit_saved": N_("Die Dienststelle ist gespeichert."),
    "consent_saved": N_(
        "Der Text ist als Entwurf gespeichert. Aktivieren Sie die Fassung, "
        "wenn alle Sprachen fertig sind."
    ),
    "consent_activated": N_("Die Fassung ist aktiviert: Wer ab jetzt entscheidet, sieht sie."),
    "privacy_saved": N_("Die Datenschutzhinweise sind gespeichert und ab sofort zu sehen."),
    "resend_refused": N_(
        "Die Einladung kann nicht mehr gesendet werden: Der Termin ist abgesagt oder vorbei."
    ),
}
"""The one-time notices after a redirect, by code: German msgids a page translates."""
ROLES = [(role, ROLE_LABELS[role]) for role in (Role.INTERPRETER, Role.COMPANION, Role.COLLEAGUE)]
LANGUAGES = [("de", N_("Deutsch")), ("en", N_("Englisch"))]
"""The invitation languages a form offers; the option texts are msgids (German: the
language's German name)."""


def with_flash(
    request: Request, ctx: AppContext, show: Callable[[str | None], HTMLResponse]
) -> HTMLResponse:
    """Render a page with the notice a redirect left behind, and consume that notice."""
    code = request.cookies.get(FLASH_COOKIE)
    response = show(FLASH_TEXTS.get(code or ""))
    if code is not None:
        clear_cookie(response, ctx.settings, FLASH_COOKIE)
    return response


def redirect(ctx: AppContext, url: str, flash: str | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        set_flash(response, ctx.settings, flash)
    return response


def staff_render(
    request: Request,
    ctx: AppContext,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A staff page in its reader's language (a new choice is remembered), with the
    layout's language links and the notice a redirect left behind."""
    language, remember = page_language(request, DEFAULT_LANGUAGE)
    common = {"language_links": language_links(request)}
    response = with_flash(
        request,
        ctx,
        lambda flash: render(
            name,
            {**common, **context, "flash": flash},
            status=status,
            language=language,
            headers=headers,
        ),
    )
    if remember:
        remember_language(response, ctx.settings, language)
    return response


def staff_page(
    request: Request,
    ctx: AppContext,
    login: Login,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A staff page (support desk, administration): the layout's navigation, the flash
    message, no caching."""
    common = {**login.page_context, "now": ctx.clock(), "zone": ZoneInfo(login.user.unit.timezone)}
    return staff_render(
        request,
        ctx,
        name,
        {**common, **context},
        status=status,
        headers={**NO_STORE, **(headers or {})},
    )


@dataclass(frozen=True)
class StaffView:
    """What every advisor page needs: the request, the app context and who is logged in."""

    request: Request
    ctx: AppContext
    login: Login

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.login.user.unit.timezone)

    @property
    def actor(self) -> Actor:
        """Who the audit log names for this page's changes."""
        return staff_actor(self.login.user.id)

    def page(self, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        common = {
            **self.login.page_context,
            "zone": self.zone,
            "now": self.ctx.clock(),
            "roles": ROLES,
            "languages": LANGUAGES,
        }
        return staff_render(
            self.request, self.ctx, name, {**common, **context}, status=status, headers=NO_STORE
        )

    def live(self, participants: list[Participant]) -> dict[str, ParticipantLive]:
        presence = realtime_of(self.request).presence
        return live_states(self.ctx.settings, presence, participants)

    def not_found(self) -> PageExit:
        return PageExit(
            message_page(
                404,
                N_("Termin nicht gefunden"),
                N_("Diesen Termin gibt es nicht, oder er gehört nicht zu Ihren Terminen."),
                self.login.user.unit.name,
                next_step=("/termine", N_("Zu „Meine Termine“")),
                staff=self.login.page_context,
                language=chosen_language(self.request),
            )
        )

    async def appointment(self, db: AsyncSession, appointment_id: str) -> Appointment:
        """The appointment, if it is this advisor's own (admins may open any)."""
        appointment = await scheduling.get_appointment(db, appointment_id)
        user = self.login.user
        if appointment is None or not may_see_appointment(
            user.role, user.id, appointment.advisor_id
        ):
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
