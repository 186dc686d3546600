"""The voluntary three-question survey after the call (``/v/<token>/umfrage``).

Every question may be left out and "Überspringen" ends the survey at any point;
closing the page stores nothing. Sending or skipping closes the survey for the
participant (at most once, :func:`videotermin.services.survey.close_survey`), and
the answers are stored in the same transaction with unit and month only — see
:mod:`videotermin.domain.survey` and docs/privacy.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from videotermin.domain.survey import InvalidAnswer, parse_answers
from videotermin.services.participation import participation_for_token
from videotermin.services.survey import close_survey
from videotermin.web.citizen.forms import checked_link_form
from videotermin.web.citizen.link import LinkPages
from videotermin.web.deps import Ctx, Db
from videotermin.web.templating import PageRoute

router = APIRouter(route_class=PageRoute)


@router.get("/v/{token}/umfrage", response_model=None)
async def survey_page(token: str, request: Request, ctx: Ctx, db: Db) -> Response:
    pages = LinkPages(request, ctx, token)
    participation = await participation_for_token(db, ctx, token)
    if participation is None:
        return await pages.unknown(db)
    if not participation.survey_open:
        return pages.redirect("/umfrage/danke" if participation.participant.survey_closed else "")
    return pages.page("citizen/survey.html", participation)


@router.post("/v/{token}/umfrage", response_model=None)
async def answer(token: str, request: Request, ctx: Ctx) -> Response:
    pages = LinkPages(request, ctx, token)
    async with ctx.sessions() as session, session.begin():
        participation = await participation_for_token(session, ctx, token)
        if participation is None:
            return await pages.unknown(session)
        form = await checked_link_form(request, ctx.settings, token)
        if form is None:
            return pages.refused(participation)
        if not participation.survey_open:
            return pages.redirect("/umfrage/danke")
        skipped = form.get("action") == "skip"
        try:
            answers = parse_answers(
                *(str(form.get(name) or "") for name in ("satisfaction", "av_quality", "use_again"))
            )
        except InvalidAnswer as invalid:
            if not skipped:
                return pages.page(
                    "citizen/survey.html", participation, status=422, invalid=invalid.field
                )
            answers = None
        await close_survey(session, ctx, participation, None if skipped else answers)
    return pages.redirect("/umfrage/danke")


@router.get("/v/{token}/umfrage/danke", response_model=None)
async def thanks(token: str, request: Request, ctx: Ctx, db: Db) -> Response:
    pages = LinkPages(request, ctx, token)
    participation = await participation_for_token(db, ctx, token)
    if participation is None:
        return await pages.unknown(db)
    if not participation.participant.survey_closed:
        return pages.redirect()
    return pages.page("citizen/survey_thanks.html", participation)
