"""The citizen's personal link (``/v/<token>``): the hub of the journey.

One page per journey state (:class:`videotermin.domain.journey.Journey`) says
what is happening and offers the one next step: consent, the device check,
entering the consultation room, or whom to contact. Consent is decided and
withdrawn here too (``/einwilligung``, ``/widerruf``).

The token is a capability: whoever holds it sees the appointment. It appears
only in this site's own paths below ``/v/<token>`` (the referrer policy keeps
it from leaving), every answer is ``no-store`` so no cache keeps a copy, and an
unknown, malformed or revoked token gets one and the same 404 page — the answer
must not tell a guesser that a token once existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from videotermin.bus.events import participant_changed
from videotermin.context import AppContext
from videotermin.domain.activity import Activity
from videotermin.domain.consent import Decision
from videotermin.domain.journey import Journey
from videotermin.domain.support_code import format_support_code
from videotermin.services import activity, consent, consent_texts
from videotermin.services.consent import Outcome, ShownText
from videotermin.services.consent_texts import ConsentText
from videotermin.services.participation import Participation, participation_for_token
from videotermin.services.units import default_unit
from videotermin.web.citizen.device_memory import passed_check_on_this_device
from videotermin.web.citizen.forms import (
    checked_link_form,
    form_key,
    form_token,
    remember_form_key,
)
from videotermin.web.deps import Ctx, Db
from videotermin.web.language import page_language, remember_language
from videotermin.web.templating import NO_STORE, PageRoute, render

router = APIRouter(route_class=PageRoute)

PRIVATE = {**NO_STORE, "X-Robots-Tag": "noindex, nofollow"}
STATE_PAGES = {
    Journey.CANCELLED: "citizen/link_cancelled.html",
    Journey.ENDED: "citizen/link_over.html",
    Journey.CONSENT_WITHDRAWN: "citizen/journey_withdrawn.html",
    Journey.CONSENT_DECLINED: "citizen/journey_declined.html",
    Journey.CONSENT_NEEDED: "citizen/journey_consent.html",
    Journey.BEFORE_WINDOW: "citizen/link.html",
    Journey.WINDOW_OPEN: "citizen/link.html",
}
# The states whose page carries the consent text (to decide, or to change one's mind).
SHOWS_CONSENT_TEXT = (Journey.CONSENT_NEEDED, Journey.CONSENT_DECLINED)
DECISIONS = {"agree": Decision.AGREED, "decline": Decision.DECLINED}


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class LinkPages:
    """The pages of one personal link, in the language the visitor chose."""

    request: Request
    ctx: AppContext
    token: str

    def _remember_language(self, response: Response, language: str, remember: bool) -> None:
        if remember:
            remember_language(response, self.ctx.settings, language)

    def page(
        self,
        template: str,
        participation: Participation,
        *,
        status: int = 200,
        text_changed: bool = False,
        text: ConsentText | None = None,
        **extra: Any,
    ) -> HTMLResponse:
        """Render one page of the link. Every page carries the support code and renews the
        form key cookie, so a form on it (consent, withdrawal) can always be sent."""
        participant, appointment = participation.participant, participation.appointment
        language, remember = page_language(self.request, participant.language)
        key = form_key(self.request)
        now = self.ctx.clock()
        context: dict[str, Any] = {
            "p": participant,
            "a": appointment,
            "unit": appointment.unit,
            "unit_name": appointment.unit.name,
            "zone": ZoneInfo(appointment.unit.timezone),
            "state": participation.state.value,
            "link": f"/v/{self.token}",
            "support_code": format_support_code(participant.support_code),
            "form_token": form_token(key, self.token),
            "now": now,
            "now_ms": _epoch_ms(now),
            "opens_at": participation.opens_at,
            "opens_at_ms": _epoch_ms(participation.opens_at),
            "check": passed_check_on_this_device(participant, self.request),
            "survey_open": participation.survey_open,
            **extra,
        }
        if text is not None:
            context["text"] = text
            context["text_changed"] = text_changed
        response = render(template, context, status=status, language=language, headers=PRIVATE)
        self._remember_language(response, language, remember)
        remember_form_key(response, self.ctx.settings, key)
        return response

    async def state_page(
        self, participation: Participation, *, status: int = 200, text_changed: bool = False
    ) -> HTMLResponse:
        """The page of the journey's state; asking for consent, with the current text in
        the page's language."""
        text = None
        if participation.state in SHOWS_CONSENT_TEXT:
            language = page_language(self.request, participation.participant.language)[0]
            text = await consent_texts.current_text(self.ctx, language)
        return self.page(
            STATE_PAGES[participation.state],
            participation,
            status=status,
            text_changed=text_changed,
            text=text,
        )

    def refused(self, participation: Participation) -> HTMLResponse:
        """A form without a valid token: nothing was recorded; say so and lead back."""
        return self.page("citizen/journey_refused.html", participation, status=403)

    async def unknown(self, db: AsyncSession) -> HTMLResponse:
        language, remember = page_language(self.request, "de")
        unit = await default_unit(db)
        response = render(
            "citizen/link_unknown.html",
            {"unit": unit, "unit_name": unit.name if unit else "Videotermin"},
            status=404,
            language=language,
            headers=PRIVATE,
        )
        self._remember_language(response, language, remember)
        return response

    def redirect(self, step: str = "") -> RedirectResponse:
        return RedirectResponse(f"/v/{self.token}{step}", status_code=303, headers=PRIVATE)


def _shown_text(form: FormData) -> ShownText:
    return ShownText(
        version=str(form.get("version", "")),
        language=str(form.get("language", "")),
        hash=str(form.get("text_hash", "")),
    )


async def _announce(ctx: AppContext, participation: Participation) -> None:
    """The advisor's live list shows consent given, declined or withdrawn."""
    await participant_changed(ctx.bus, participation.appointment.id, participation.participant.id)


@router.get("/v/{token}")
async def personal_link(token: str, request: Request, ctx: Ctx, db: Db) -> HTMLResponse:
    pages = LinkPages(request, ctx, token)
    participation = await participation_for_token(db, ctx, token)
    if participation is None:
        return await pages.unknown(db)
    await activity.report(
        ctx, participation.appointment.id, participation.participant.id, Activity.LINK_PAGE
    )
    return await pages.state_page(participation)


@router.post("/v/{token}/einwilligung", response_model=None)
async def decide(token: str, request: Request, ctx: Ctx) -> Response:
    """Agree (on to the device check at once) or decline (the declined page)."""
    pages = LinkPages(request, ctx, token)
    async with ctx.sessions() as session, session.begin():
        participation = await consent.lock_participation(session, ctx, token)
        if participation is None:
            return await pages.unknown(session)
        form = await checked_link_form(request, ctx.settings, token)
        if form is None:
            return pages.refused(participation)
        decision = DECISIONS.get(str(form.get("decision")))
        if decision is None:
            return await pages.state_page(participation, status=400)
        outcome = await consent.decide(session, ctx, participation, decision, _shown_text(form))
    if outcome == Outcome.RECORDED:
        await _announce(ctx, participation)
    if outcome in (Outcome.RECORDED, Outcome.UNCHANGED):
        return pages.redirect("/geraete" if decision == Decision.AGREED else "")
    changed = outcome == Outcome.TEXT_CHANGED
    return await pages.state_page(participation, status=409, text_changed=changed)


@router.get("/v/{token}/widerruf", response_model=None)
async def withdraw_confirmation(token: str, request: Request, ctx: Ctx, db: Db) -> Response:
    pages = LinkPages(request, ctx, token)
    participation = await participation_for_token(db, ctx, token)
    if participation is None:
        return await pages.unknown(db)
    if not consent.may_withdraw(participation):
        return pages.redirect()
    return pages.page("citizen/journey_withdraw.html", participation)


@router.post("/v/{token}/widerruf", response_model=None)
async def withdraw(token: str, request: Request, ctx: Ctx) -> Response:
    """Withdraw consent: the personal data is erased in the same transaction."""
    pages = LinkPages(request, ctx, token)
    async with ctx.sessions() as session, session.begin():
        participation = await consent.lock_participation(session, ctx, token)
        if participation is None:
            return await pages.unknown(session)
        if await checked_link_form(request, ctx.settings, token) is None:
            return pages.refused(participation)
        withdrawn = await consent.withdraw(session, ctx, participation)
    if not withdrawn:
        return await pages.state_page(participation, status=409)
    await _announce(ctx, participation)
    return pages.redirect()
