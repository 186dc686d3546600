"""The texts citizens read, in the administration: ``/admin/einwilligung`` adds a
consent text version per language as Markdown (with a preview) and activates it;
``/admin/datenschutz`` edits the privacy notice (:mod:`videotermin.services.site_texts`).

Participants keep the version they agreed to; the support desk names it.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from videotermin.domain.appointments import FieldError, RuleViolation
from videotermin.domain.text import N_
from videotermin.services import consent_texts, site_texts
from videotermin.services.staff_auth import Login
from videotermin.web.deps import CheckedForm, Ctx, CurrentAdmin
from videotermin.web.staff.view import redirect, staff_page
from videotermin.web.templating import PageRoute

router = APIRouter(route_class=PageRoute)

LANGUAGE_CHOICES = [("de", N_("Deutsch")), ("en", N_("Englisch"))]
"""The languages a text is written in; the names are msgids, shown in the reader's language."""
MESSAGES = {
    ("version", "invalid"): N_(
        "Die Fassung heißt am besten nach ihrem Datum, zum Beispiel "
        "2027-01-15 (Buchstaben, Ziffern, Punkt, Bindestrich; höchstens 40 Zeichen)."
    ),
    ("version", "active"): N_(
        "Diese Fassung ist schon veröffentlicht und bleibt, wie sie ist, "
        "weil Einwilligungen auf ihren Text verweisen. Bitte legen Sie eine neue Fassung an."
    ),
    ("version", "no_german"): N_(
        "Eine Fassung braucht einen deutschen Text, bevor sie aktiviert "
        "werden kann: Er wird gezeigt, wenn es keine Übersetzung gibt."
    ),
    ("language", "invalid"): N_("Bitte wählen Sie Deutsch oder Englisch."),
    ("markdown", "required"): N_("Bitte geben Sie den Text ein."),
    ("markdown", "invalid"): N_("Der Text ist zu lang (höchstens 50.000 Zeichen)."),
}


def _errors(refused: list[FieldError]) -> dict[str, str]:
    return {
        e.field: MESSAGES.get((e.field, e.code), N_("Bitte prüfen Sie diese Angabe."))
        for e in refused
    }


async def _consent_page(
    request: Request,
    ctx: Ctx,
    login: Login,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    preview: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "versions": await consent_texts.overview(ctx),
        "values": values,
        "errors": errors or {},
        "preview": preview,
        "languages": LANGUAGE_CHOICES,
    }
    return staff_page(request, ctx, login, "admin/consent.html", context, status)


Text = Annotated[str, Query(max_length=40)]


@router.get("/admin/einwilligung")
async def consent_overview(
    request: Request, ctx: Ctx, login: CurrentAdmin, version: Text = "", language: Text = "de"
) -> HTMLResponse:
    """The versions, and the form; ``?version=…&language=…`` opens a draft to edit."""
    zone = ZoneInfo(login.user.unit.timezone)
    values = {"version": ctx.clock().astimezone(zone).date().isoformat(), "language": "de"}
    if version:
        stored = await consent_texts.stored_text(ctx, version, language)
        if stored is not None:
            values = {"version": version, "language": language, "markdown": stored}
    return await _consent_page(request, ctx, login, values)


@router.post("/admin/einwilligung", response_model=None)
async def consent_save(
    request: Request, ctx: Ctx, login: CurrentAdmin, form: CheckedForm
) -> Response:
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    values = {**values, "version": values.get("version", "").strip()}
    version, language = values["version"], values.get("language", "")
    markdown = values.get("markdown", "")
    if values.get("action") == "preview":
        shown = consent_texts.render_preview(ctx.settings, language, markdown)
        return await _consent_page(request, ctx, login, values, preview=shown.html)
    try:
        await consent_texts.save_draft(ctx, login.user.id, version, language, markdown)
    except RuleViolation as refused:
        errors = _errors(refused.errors)
        return await _consent_page(request, ctx, login, values, errors=errors, status=422)
    return redirect(ctx, "/admin/einwilligung", "consent_saved")


@router.post("/admin/einwilligung/{version}/aktivieren", response_model=None)
async def consent_activate(
    version: str, request: Request, ctx: Ctx, login: CurrentAdmin, _: CheckedForm
) -> Response:
    try:
        await consent_texts.activate(ctx, login.user.id, version[:40])
    except RuleViolation as refused:
        values = {"version": version[:40], "language": "de"}
        errors = _errors(refused.errors)
        return await _consent_page(request, ctx, login, values, errors=errors, status=422)
    return redirect(ctx, "/admin/einwilligung", "consent_activated")


@router.get("/admin/datenschutz")
async def privacy_form(
    request: Request, ctx: Ctx, login: CurrentAdmin, language: Text = "de"
) -> HTMLResponse:
    language = language if language in site_texts.LANGUAGES else "de"
    markdown = await site_texts.privacy_markdown(ctx, language)
    values = {"language": language, "markdown": markdown}
    context = {"values": values, "errors": {}, "preview": None, "languages": LANGUAGE_CHOICES}
    return staff_page(request, ctx, login, "admin/privacy.html", context)


@router.post("/admin/datenschutz", response_model=None)
async def privacy_save(
    request: Request, ctx: Ctx, login: CurrentAdmin, form: CheckedForm
) -> Response:
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    language, markdown = values.get("language", ""), values.get("markdown", "")
    context: dict[str, object] = {"values": values, "languages": LANGUAGE_CHOICES}
    if values.get("action") == "preview":
        html = site_texts.render(ctx.settings, markdown)
        context |= {"errors": {}, "preview": html}
        return staff_page(request, ctx, login, "admin/privacy.html", context)
    try:
        await site_texts.save_privacy(ctx, login.user.id, language, markdown)
    except RuleViolation as refused:
        context |= {"errors": _errors(refused.errors), "preview": None}
        return staff_page(request, ctx, login, "admin/privacy.html", context, 422)
    return redirect(ctx, f"/admin/datenschutz?language={language}", "privacy_saved")
