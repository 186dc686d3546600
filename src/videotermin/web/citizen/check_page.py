"""The device-check page as it is rendered, for a personal link or the public check.

Everything the page's script needs travels in one JSON block (endpoints, the
page token, the ICE servers a real call uses, timings), because the CSP allows
no inline script. The language is the visitor's choice (``?lang=``, then the
remembered one), else the participant's — or, on the public page, what the
browser's ``Accept-Language`` prefers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from videotermin.context import AppContext
from videotermin.domain.device import device_parameters, permission_help
from videotermin.domain.tokens import looks_like_token, new_token
from videotermin.media.ice import browser_rtc_configuration
from videotermin.services.participation import Participation
from videotermin.store.models import Unit
from videotermin.web.citizen.check_requests import CSRF_COOKIE, CSRF_HEADER
from videotermin.web.citizen.link import PRIVATE
from videotermin.web.citizen.speed_test import DOWN_URL, MAX_SPEED_BYTES, UP_URL
from videotermin.web.language import accepted_language, page_language, remember_language
from videotermin.web.templating import render

# A User-Agent is parsed only this far; real ones are shorter.
USER_AGENT_CHARS = 512


@dataclass(frozen=True)
class CheckUrls:
    """Where the page sends the visitor and its requests."""

    check: str
    call: str
    result: str
    room: str | None = None
    progress: str | None = None
    """Where a personal check reports its steps (the public check reports nothing)."""

    def config(self) -> dict[str, str]:
        urls = {
            "checkUrl": self.check,
            "callUrl": self.call,
            "resultUrl": self.result,
            "speedDownUrl": DOWN_URL,
            "speedUpUrl": UP_URL,
        }
        if self.progress:
            urls["progressUrl"] = self.progress
        return {**urls, "roomUrl": self.room} if self.room else urls


def check_page(
    request: Request,
    ctx: AppContext,
    *,
    unit: Unit | None,
    urls: CheckUrls,
    participation: Participation | None = None,
) -> HTMLResponse:
    # The public page has no participant: the browser's preference stands in.
    preferred = (
        participation.participant.language
        if participation
        else accepted_language(request.headers.get("accept-language", ""))
    )
    language, remember = page_language(request, preferred)
    csrf = request.cookies.get(CSRF_COOKIE, "")
    if not looks_like_token(csrf):
        csrf = new_token()
    now = ctx.clock()
    device = device_parameters(request.headers.get("user-agent", "")[:USER_AGENT_CHARS])
    config: dict[str, Any] = {
        "csrfHeader": CSRF_HEADER,
        "csrfToken": csrf,
        **browser_rtc_configuration(ctx.settings, now),
        "testcallSeconds": ctx.settings.testcall_seconds,
        "maxSpeedBytes": MAX_SPEED_BYTES,
        **urls.config(),
    }
    context: dict[str, Any] = {
        "unit": unit,
        "unit_name": unit.name if unit else "Videotermin",
        "config": config,
        "help_first": permission_help(device).value,
        "check_url": urls.check,
        "participation": participation,
        "opens_in_seconds": None,
    }
    if participation is not None:
        zone = ZoneInfo(participation.appointment.unit.timezone)
        opens_at = participation.opens_at
        opens_in = max(0, math.ceil((opens_at - now).total_seconds()))
        config["opensInSeconds"] = opens_in  # relative: the device's clock may be wrong
        context.update(
            zone=zone,
            room_url=urls.room,
            opens_at=opens_at,
            opens_in_seconds=opens_in,
            opens_today=opens_at.astimezone(zone).date() == now.astimezone(zone).date(),
        )
    response = render("citizen/check_page.html", context, language=language, headers=PRIVATE)
    secure = ctx.settings.secure_cookies
    response.set_cookie(
        CSRF_COOKIE, csrf, path="/", samesite="strict", secure=secure, httponly=True
    )
    if remember:
        remember_language(response, ctx.settings, language)
    return response
