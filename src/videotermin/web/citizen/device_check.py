"""The device check with test call: on a personal link and as a public page.

``/v/<token>/geraete`` is step 5 of the journey (PRODUCT.md): the page asks
for camera and microphone, checks the picture, the microphone and the
speaker, makes a test call to the echo peer (:mod:`videotermin.media.echo`)
and measures the upload and download rate (:mod:`web.speed_test`). The
browser posts its figures to ``/ergebnis``; the server grades them
(:func:`videotermin.domain.quality.judge`), stores a ``DeviceCheck`` and leaves
the ``vt_device`` cookie, by which the link page recognises a device that has
passed (:mod:`web.device_memory`).

``/check`` is the same check without an appointment, for a QR-code poster: it
grades and stores nothing. Because it needs no link, its calls are limited per
client address (:class:`web.check_requests.CheckLimits`).
"""

from __future__ import annotations

import io

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.bus.events import participant_changed
from videotermin.context import AppContext
from videotermin.domain.activity import CHECK_STEPS, Activity
from videotermin.domain.device import device_parameters
from videotermin.domain.quality import judge
from videotermin.domain.tokens import looks_like_token, new_token
from videotermin.media.echo import EchoBusy, InvalidOffer
from videotermin.services import activity
from videotermin.services.device_checks import record_device_check
from videotermin.services.participation import Participation, participation_for_token
from videotermin.services.units import default_unit
from videotermin.settings import Settings
from videotermin.web.citizen import speed_test
from videotermin.web.citizen.check_page import USER_AGENT_CHARS, CheckUrls, check_page
from videotermin.web.citizen.check_payload import (
    MAX_PROGRESS_BYTES,
    MAX_RESULT_BYTES,
    MAX_SDP_CHARS,
    CheckProgress,
    CheckResult,
    Offer,
    stored_findings,
    verdict_json,
)
from videotermin.web.citizen.check_requests import (
    FromPage,
    Limits,
    bounded_body,
    refusal,
    validated,
)
from videotermin.web.citizen.device_memory import DEVICE_COOKIE
from videotermin.web.citizen.link import LinkPages
from videotermin.web.deps import Ctx, Db, client_address
from videotermin.web.templating import NO_STORE, PageRoute

router = APIRouter(route_class=PageRoute)
router.include_router(speed_test.router)


# --- pages -------------------------------------------------------------------


@router.get("/v/{token}/geraete", response_model=None)
async def personal_check(token: str, request: Request, ctx: Ctx, db: Db) -> Response:
    participation = await participation_for_token(db, ctx, token)
    pages = LinkPages(request, ctx, token)
    if participation is None:
        return await pages.unknown(db)
    if not participation.may_check_devices:
        return pages.redirect()
    base = f"/v/{token}"
    urls = CheckUrls(
        check=f"{base}/geraete",
        call=f"{base}/geraete/anruf",
        result=f"{base}/geraete/ergebnis",
        room=f"{base}/warteraum",
        progress=f"{base}/geraete/stand",
    )
    await activity.report(
        ctx, participation.appointment.id, participation.participant.id, Activity.CHECK_OPENED
    )
    unit = participation.appointment.unit
    return check_page(request, ctx, unit=unit, urls=urls, participation=participation)


@router.get("/check")
async def public_check(request: Request, ctx: Ctx, db: Db) -> HTMLResponse:
    unit = await default_unit(db)
    urls = CheckUrls(check="/check", call="/check/anruf", result="/check/ergebnis")
    return check_page(request, ctx, unit=unit, urls=urls)


def public_check_url(settings: Settings) -> str:
    return f"{settings.public_url}/check"


@router.get("/check/qr.svg")
async def public_check_qr(ctx: Ctx) -> Response:
    """The poster's QR code: the public check's address, scannable from a printout.

    Error correction "M" survives a smudged poster; the quiet zone (border 4)
    is what the standard asks for.
    """
    svg = io.BytesIO()
    segno.make(public_check_url(ctx.settings), error="m", micro=False).save(
        svg, kind="svg", scale=8, border=4, title="Videotermin"
    )
    return Response(
        svg.getvalue(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600"},
    )


# --- the test call -------------------------------------------------------------


async def _participation_for_post(db: AsyncSession, ctx: AppContext, token: str) -> Participation:
    """The link's participation, if it may run the check now; else a JSON refusal."""
    participation = await participation_for_token(db, ctx, token)
    if participation is None:
        raise refusal(404, {"error": "unknown_link"})
    if not participation.may_check_devices:
        raise refusal(403, {"error": "not_allowed", "state": participation.state.value})
    return participation


async def _answer_call(request: Request, ctx: AppContext) -> JSONResponse:
    offer = validated(Offer, await bounded_body(request, 2 * MAX_SDP_CHARS))
    if ctx.echo is None:
        raise refusal(503, {"error": "busy"}, {"Retry-After": "5"})
    try:
        answer = await ctx.echo.answer(offer.sdp)
    except EchoBusy as busy:
        raise refusal(503, {"error": "busy"}, {"Retry-After": str(busy.retry_after)}) from None
    except InvalidOffer as invalid:
        raise refusal(422, {"errors": [{"field": "sdp", "message": str(invalid)}]}) from None
    ctx.metrics.test_calls.inc()
    return JSONResponse({"type": "answer", "sdp": answer}, headers=NO_STORE)


@router.post("/v/{token}/geraete/anruf")
async def personal_call(token: str, request: Request, ctx: Ctx, _: FromPage) -> JSONResponse:
    async with ctx.sessions() as db:
        await _participation_for_post(db, ctx, token)
    return await _answer_call(request, ctx)


@router.post("/check/anruf")
async def public_call(request: Request, ctx: Ctx, limits: Limits, _: FromPage) -> JSONResponse:
    limits.take(limits.calls, request)
    return await _answer_call(request, ctx)


# --- results -------------------------------------------------------------------


@router.post("/v/{token}/geraete/stand")
async def personal_progress(token: str, request: Request, ctx: Ctx, _: FromPage) -> Response:
    """A step of the running check (camera blocked, grading …), for the support desk."""
    progress = validated(CheckProgress, await bounded_body(request, MAX_PROGRESS_BYTES))
    async with ctx.sessions() as db:
        participation = await _participation_for_post(db, ctx, token)
        appointment_id, participant_id = participation.appointment.id, participation.participant.id
    await activity.report(ctx, appointment_id, participant_id, CHECK_STEPS[progress.step])
    return Response(status_code=204, headers=NO_STORE)


@router.post("/v/{token}/geraete/ergebnis")
async def personal_result(token: str, request: Request, ctx: Ctx, _: FromPage) -> JSONResponse:
    """Grade and store the check; the cookie marks this device as the one that ran it."""
    device_key = request.cookies.get(DEVICE_COOKIE, "")
    if not looks_like_token(device_key):
        device_key = new_token()
    async with ctx.sessions() as db, db.begin():
        participation = await _participation_for_post(db, ctx, token)
        result = validated(CheckResult, await bounded_body(request, MAX_RESULT_BYTES))
        measurements = result.measurements()
        verdict = judge(measurements)
        await record_device_check(
            db,
            ctx,
            participation.participant.id,
            verdict,
            measurements,
            findings=stored_findings(verdict),
            device=device_parameters(request.headers.get("user-agent", "")[:USER_AGENT_CHARS]),
            device_key=device_key,
            ip_address=client_address(request),
        )
    await participant_changed(ctx.bus, participation.appointment.id, participation.participant.id)
    await activity.report(
        ctx, participation.appointment.id, participation.participant.id, Activity.CHECK_DONE
    )
    response = JSONResponse(verdict_json(verdict), headers=NO_STORE)
    response.set_cookie(
        DEVICE_COOKIE,
        device_key,
        max_age=ctx.settings.retention_days * 24 * 3600,
        path="/v/",
        secure=ctx.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/check/ergebnis")
async def public_result(request: Request, limits: Limits, _: FromPage) -> JSONResponse:
    """The public check's verdict: graded and returned, never stored."""
    limits.take(limits.results, request)
    result = validated(CheckResult, await bounded_body(request, MAX_RESULT_BYTES))
    return JSONResponse(verdict_json(judge(result.measurements())), headers=NO_STORE)
