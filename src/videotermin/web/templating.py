"""Rendering pages: one Jinja2 environment per language, gettext catalogs read from .po.

German is the source language: templates carry German msgids and ``de.po`` only
lists them, ``en.po`` translates them. The catalogs are read with Babel when the
first page is rendered, so a changed translation needs no compile step. Each
language has its own environment because Jinja2's gettext callables are
environment-wide; one shared environment would mix languages between requests.

Autoescaping is on for every template: all user data reaches the page as text.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Coroutine, Mapping
from functools import cache, partial
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from videotermin.domain.appointments import ROLE_LABELS, is_over
from videotermin.domain.dates import clock_time, long_date, long_datetime
from videotermin.domain.text import Text
from videotermin.domain.units import HotlineHours, hotline_hours
from videotermin.web.static_files import static_url

WEB = Path(__file__).parent
TEMPLATES = WEB / "templates"
CATALOGS = WEB / "i18n"
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
# Pages with personal data: no browser or proxy cache may keep a copy.
NO_STORE = {"Cache-Control": "no-store"}


def read_catalog(language: str) -> Catalog:
    """All ``i18n/<language>/*.po`` files as one catalog (one file per area of the site)."""
    merged = Catalog(locale=language)
    for path in sorted((CATALOGS / language).glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale=language):
                if message.id:
                    merged[message.id] = message
    return merged


def load_translations(language: str) -> Translations:
    """A gettext catalog built in memory from the ``.po`` files (fuzzy entries skipped)."""
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(language))
    compiled.seek(0)
    return Translations(fp=compiled)


@cache
def translations(language: str) -> Translations:
    """The language's catalog, read once per process."""
    return load_translations(language)


def translate(language: str, message: str) -> str:
    """A message from the code (an error, a notice, a label) in ``language``: a msgid
    the catalogs know is translated, any other text (a name, a number) stays as it is.
    The result is plain text, escaped like any value, never markup."""
    catalog = translations(language)
    if isinstance(message, Text):
        return catalog.gettext(message.msgid) % message.params
    return catalog.gettext(message)


def _hotline_hours(unit: Any, language: str) -> HotlineHours:
    """A unit's hotline hours for a page in ``language`` (German when no English given)."""
    return hotline_hours(language, german=unit.hotline_hours, english=unit.hotline_hours_en)


def _input_date(moment: Any, zone: Any) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d")


def _input_time(moment: Any, zone: Any) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The i18n extension adds this method at run time; Environment does not declare it.
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        long_date=partial(long_date, language=language),
        long_datetime=partial(long_datetime, language=language),
        clock_time=partial(clock_time, language=language),
        input_date=_input_date,
        input_time=_input_time,
        zip=zip,
        t=partial(translate, language),
        hotline_hours=partial(_hotline_hours, language=language),
    )
    env.globals["is_over"] = is_over
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    env.globals["static_url"] = static_url
    return env


def render(
    name: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    language: str = DEFAULT_LANGUAGE,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    template = environment(language).get_template(name)
    html = template.render({"lang": language, **context})
    return HTMLResponse(html, status_code=status, headers=headers)


def message_page(
    status: int,
    title: str,
    message: str,
    unit_name: str = "Videotermin",
    *,
    next_step: tuple[str, str] | None = None,
    staff: Mapping[str, Any] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> HTMLResponse:
    """A plain page for refusals (403, 404 …): what happened and where to go on.

    ``staff`` (user and CSRF token) keeps the navigation and the logout button
    on the page, so a refused staff member is never left without a way out. The title,
    message and link text are German msgids, shown in ``language``.
    """
    context = {
        "title": title,
        "message": message,
        "unit_name": unit_name,
        "next_step": next_step,
        **(staff or {}),
    }
    return render("message.html", context, status=status, language=language)


class PageExit(Exception):
    """Stop handling the request and answer with ``response``.

    Dependencies (login required, wrong role, bad CSRF token) raise it; the
    :class:`PageRoute` answers with the page instead of FastAPI's JSON errors,
    without the app needing an exception handler.
    """

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class PageRoute(APIRoute):
    """A route whose :class:`PageExit` becomes the response it carries."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except PageExit as exit_:
                return exit_.response

        return handle
