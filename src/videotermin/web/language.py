"""Which language a page speaks: the visitor's explicit choice, remembered in a cookie.

Every page chooses the same way — citizen pages, where the participant's own language
stands in when nobody chose, and staff pages, where German does (the agency's working
language). A choice is a plain link with ``?lang=``, so it works without JavaScript and
on every page, and the cookie carries it to the next page and to the page's sockets.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request, Response
from starlette.requests import HTTPConnection

from videotermin.settings import Settings
from videotermin.web.templating import DEFAULT_LANGUAGE, LANGUAGES

LANGUAGE_COOKIE = "vt_lang"
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
_YEAR = 365 * 24 * 3600


def page_language(request: Request, preferred: str) -> tuple[str, bool]:
    """The page language: an explicit ``?lang=`` choice, then the remembered one, then
    ``preferred``; the second value says whether the choice is new, so the page
    remembers it."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked, True
    return remembered_language(request, preferred), False


def chosen_language(request: Request) -> str:
    """A staff page's language: the choice in the link or the cookie, else German."""
    return page_language(request, DEFAULT_LANGUAGE)[0]


def remembered_language(connection: HTTPConnection, preferred: str = DEFAULT_LANGUAGE) -> str:
    """The language chosen on an earlier page (a socket has only this), else ``preferred``."""
    remembered = connection.cookies.get(LANGUAGE_COOKIE)
    if remembered in LANGUAGES:
        return remembered
    return preferred if preferred in LANGUAGES else DEFAULT_LANGUAGE


def remember_language(response: Response, settings: Settings, language: str) -> None:
    """Keep a visitor's explicit language choice for every later page."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=_YEAR,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def accepted_language(header: str) -> str:
    """The best of our languages by an ``Accept-Language`` header; German if none fits."""
    best, best_q = LANGUAGES[0], 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if language in LANGUAGES and q > best_q:
            best, best_q = language, q
    return best


def language_links(request: Request) -> Mapping[str, str]:
    """Each language's link to this very page, its other query parameters kept (a
    filtered list stays filtered when its reader switches language)."""
    links = {}
    for language in LANGUAGES:
        url = request.url.include_query_params(lang=language)
        links[language] = f"{url.path}?{url.query}"
    return links
