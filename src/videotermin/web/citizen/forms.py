"""CSRF protection for the citizen's forms, which are sent without any login session.

Double submit, as on the staff login form: a random key lives in an HttpOnly
cookie (path ``/v/``), and each form carries a token derived from that key and
the personal link it belongs to (HMAC), so a form of one link is worthless on
another link. A foreign site can neither read the cookie nor compute the
token. Where the browser says where a request comes from (``Origin``,
``Sec-Fetch-Site``), it must be this site too; browsers that send neither
still have the token check. Our ``Referrer-Policy: no-referrer`` makes
browsers send ``Origin: null`` on form posts, which says nothing either way,
so there ``Sec-Fetch-Site`` decides.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import FormData

from videotermin.domain.tokens import looks_like_token, new_token, tokens_equal
from videotermin.settings import Settings

FORM_COOKIE = "vt_form"
FORM_FIELD = "csrf_token"
FORM_COOKIE_SECONDS = 24 * 3600


def form_key(request: Request) -> str:
    """The key of this browser: the cookie's, or a fresh one to be set with the page."""
    key = request.cookies.get(FORM_COOKIE, "")
    return key if looks_like_token(key) else new_token()


def form_token(key: str, link_token: str) -> str:
    return hmac.new(key.encode(), b"form:" + link_token.encode(), hashlib.sha256).hexdigest()


def remember_form_key(response: Response, settings: Settings, key: str) -> None:
    response.set_cookie(
        FORM_COOKIE,
        key,
        max_age=FORM_COOKIE_SECONDS,
        path="/v/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_this_site(request: Request, settings: Settings) -> bool:
    """``Origin`` (when sent) names this site, by its public address or the one the
    request reached; ``Sec-Fetch-Site`` (when sent) says ``same-origin``."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    return origin.lower() in (_origin(settings.public_url), _origin(str(request.base_url)))


async def checked_link_form(
    request: Request, settings: Settings, link_token: str
) -> FormData | None:
    """The submitted form if it came from this site's page for this link, else ``None``."""
    if not from_this_site(request, settings):
        return None
    form = await request.form()
    given = form.get(FORM_FIELD)
    key = request.cookies.get(FORM_COOKIE, "")
    if not isinstance(given, str) or not looks_like_token(key):
        return None
    return form if tokens_equal(given, form_token(key, link_token)) else None
