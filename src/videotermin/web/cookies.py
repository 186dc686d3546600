"""The cookies the site sets: the staff session, the login form's CSRF token, notices.

Who a session cookie belongs to is :mod:`videotermin.services.staff_auth`'s
answer; every POST form carries the session's CSRF token, and the login form,
which has no session yet, a double-submit cookie (:mod:`videotermin.web.deps`
checks both).
"""

from __future__ import annotations

from fastapi import Request, Response

from videotermin.domain.tokens import looks_like_token, new_token
from videotermin.settings import Settings

SESSION_COOKIE = "vt_session"
LOGIN_CSRF_COOKIE = "vt_login_csrf"
FLASH_COOKIE = "vt_flash"
CSRF_FIELD = "csrf_token"


def safe_next(candidate: str | None, default: str = "/termine") -> str:
    """Only a local path may follow a login: ``//host`` or ``/\\host`` would leave the site."""
    if (
        not candidate
        or not candidate.startswith("/")
        or candidate.startswith(("//", "/\\"))
        or any(ord(c) < 32 or c == "\\" for c in candidate)
    ):
        return default
    return candidate


def _cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    _cookie(response, settings, SESSION_COOKIE, token, settings.session_hours * 3600)


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", secure=settings.secure_cookies, httponly=True)


def set_flash(response: Response, settings: Settings, code: str) -> None:
    """A one-time notice for the page after a redirect; holds a code, never user data."""
    _cookie(response, settings, FLASH_COOKIE, code, 300)


def login_csrf_token(request: Request) -> str:
    """The double-submit token for the login form: the cookie's, or a fresh one."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return token if looks_like_token(token) else new_token()


def remember_login_csrf(response: Response, settings: Settings, token: str) -> None:
    _cookie(response, settings, LOGIN_CSRF_COOKIE, token, 3600)
