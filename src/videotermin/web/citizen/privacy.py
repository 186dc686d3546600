"""``/datenschutz``: the privacy notice, linked from the foot of every page.

The text is the admin's (or the shipped one, :mod:`videotermin.services.site_texts`), in
the visitor's language chosen like every citizen page (``?lang=``, then the remembered
choice); it states the configured retention period.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from videotermin.services import site_texts
from videotermin.services.units import default_unit
from videotermin.web.deps import Ctx, Db
from videotermin.web.language import page_language, remember_language
from videotermin.web.templating import PageRoute, render

router = APIRouter(route_class=PageRoute)


@router.get("/datenschutz")
async def privacy_notice(request: Request, ctx: Ctx, db: Db) -> HTMLResponse:
    language, remember = page_language(request, "de")
    unit = await default_unit(db)
    html = await site_texts.privacy_html(ctx, language)
    context = {"unit": unit, "unit_name": unit.name if unit else "Videotermin", "text": html}
    response = render("citizen/privacy.html", context, language=language)
    if remember:
        remember_language(response, ctx.settings, language)
    return response
