"""Staff logins: password check with lockout, server-side sessions, CSRF tokens.

The session cookie carries a random token; the table keeps only its SHA-256
hash, so a database dump cannot be replayed as logins, and logging out deletes
the row, so the old cookie is worthless at once. Every POST form carries the
session's CSRF token; the login form, which has no session yet, uses a
double-submit cookie instead. The dependencies at the bottom are what handlers
declare (``CurrentAdvisor``, ``CheckedForm``) so that none can forget a check.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from videotermin.context import AppContext
from videotermin.domain import login_throttle
from videotermin.domain.passwords import hash_password, needs_rehash, verify_password
from videotermin.domain.tokens import hash_token, looks_like_token, new_token, tokens_equal
from videotermin.settings import Settings
from videotermin.store.models import LoginThrottle, StaffSession, StaffUser
from videotermin.web.templating import PageExit, message_page

SESSION_COOKIE = "vt_session"
LOGIN_CSRF_COOKIE = "vt_login_csrf"
FLASH_COOKIE = "vt_flash"
CSRF_FIELD = "csrf_token"
ADVISOR_ROLES = ("advisor", "admin")

# Verified when the username is unknown, so that case costs the same argon2 time.
_DUMMY_HASH = hash_password("no such user, no such password")


@dataclass(frozen=True)
class Login:
    """Who is logged in on this request, and the CSRF token their forms must carry."""

    user: StaffUser
    csrf_token: str

    @property
    def page_context(self) -> dict[str, object]:
        """What the page layout needs to show the navigation and the logout button."""
        return {"user": self.user, "csrf_token": self.csrf_token, "unit_name": self.user.unit.name}


@dataclass(frozen=True)
class LoginAttempt:
    user: StaffUser | None = None
    locked_until: datetime | None = None


def lock_minutes_left(locked_until: datetime, now: datetime) -> int:
    return max(1, math.ceil((locked_until - now).total_seconds() / 60))


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


# --- authentication ----------------------------------------------------------


async def authenticate(
    db: AsyncSession, ctx: AppContext, username: str, password: str
) -> LoginAttempt:
    """Check a password against the failed-login limit (:mod:`domain.login_throttle`).

    The limit is kept per attempted username, whether or not such an account
    exists, and every path runs one argon2 verification: neither the lock nor
    the answer time tells whether a username is real. A correct password on a
    locked name is refused too, so the lock cannot be guessed around.
    """
    now = ctx.clock()
    key = hash_token("login:" + username.casefold())
    throttle = await db.get(LoginThrottle, key)
    state = (
        login_throttle.LoginFailures(
            throttle.failures, throttle.first_failed_at, throttle.locked_until
        )
        if throttle
        else login_throttle.LoginFailures()
    )
    user = await db.scalar(
        select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True))
    )
    if login_throttle.is_locked(state, now):
        verify_password(_DUMMY_HASH, password)
        return LoginAttempt(locked_until=state.locked_until)
    if user is not None and verify_password(user.password_hash, password):
        if throttle is not None:
            await db.delete(throttle)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return LoginAttempt(user=user)
    if user is None:
        verify_password(_DUMMY_HASH, password)
    settings = ctx.settings
    state = login_throttle.record_failure(
        state, now, settings.login_max_failures, timedelta(minutes=settings.login_lock_minutes)
    )
    if throttle is None:
        throttle = LoginThrottle(key_hash=key, failures=0, first_failed_at=now)
        db.add(throttle)
    throttle.failures = state.count
    throttle.first_failed_at = state.first_at or now
    throttle.locked_until = state.locked_until
    return LoginAttempt(locked_until=state.locked_until)


# --- sessions ----------------------------------------------------------------


async def open_session(
    db: AsyncSession, ctx: AppContext, user: StaffUser, replacing: str | None
) -> str:
    """A fresh session for ``user``; the token goes into the cookie, only its hash is stored.

    A session the browser still presented is ended (no fixation), and expired
    sessions of anyone are cleared on the way, so the table does not grow.
    """
    now = ctx.clock()
    if replacing:
        await close_session(db, replacing)
    await db.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    token = new_token()
    db.add(
        StaffSession(
            token_hash=hash_token(token),
            user_id=user.id,
            csrf_token=new_token(),
            created_at=now,
            expires_at=now + timedelta(hours=ctx.settings.session_hours),
        )
    )
    return token


async def close_session(db: AsyncSession, token: str) -> None:
    if looks_like_token(token):
        await db.execute(delete(StaffSession).where(StaffSession.token_hash == hash_token(token)))


async def find_login(db: AsyncSession, token: str | None, now: datetime) -> Login | None:
    if not token or not looks_like_token(token):
        return None
    row = await db.get(StaffSession, hash_token(token))
    if row is None or now >= row.expires_at or not row.user.active:
        return None
    return Login(user=row.user, csrf_token=row.csrf_token)


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


# --- dependencies ------------------------------------------------------------


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Ctx = Annotated[AppContext, Depends(get_ctx)]


async def get_db(ctx: Ctx) -> AsyncIterator[AsyncSession]:
    """A session for reading; changes use their own ``ctx.sessions()`` transaction."""
    async with ctx.sessions() as db:
        yield db


Db = Annotated[AsyncSession, Depends(get_db)]


async def optional_login(request: Request, ctx: Ctx, db: Db) -> Login | None:
    return await find_login(db, request.cookies.get(SESSION_COOKIE), ctx.clock())


OptionalLogin = Annotated[Login | None, Depends(optional_login)]


def require_login(request: Request, login: OptionalLogin) -> Login:
    if login is None:
        target = request.url.path if request.method == "GET" else "/termine"
        raise PageExit(RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303))
    return login


CurrentLogin = Annotated[Login, Depends(require_login)]


def require_advisor(login: CurrentLogin) -> Login:
    """Appointments are the advisors' (and admins') area; support staff get a clear refusal."""
    if login.user.role not in ADVISOR_ROLES:
        raise PageExit(
            message_page(
                403,
                "Dieser Bereich ist für Beraterinnen und Berater",
                "Mit Ihrem Konto (Rolle: Support) können Sie keine Termine ansehen oder "
                "anlegen. Wenn Sie Termine betreuen, bitten Sie Ihre Administration, "
                "Ihrem Konto die Rolle „Beratung“ zu geben.",
                login.user.unit.name,
                staff=login.page_context,
            )
        )
    return login


CurrentAdvisor = Annotated[Login, Depends(require_advisor)]


def csrf_refused(login: Login | None = None) -> PageExit:
    return PageExit(
        message_page(
            403,
            "Das Formular konnte nicht angenommen werden",
            "Das Formular war abgelaufen oder unvollständig. Aus Sicherheitsgründen wurde "
            "nichts gespeichert und nichts geändert. Bitte laden Sie die Seite neu und "
            "versuchen Sie es noch einmal.",
            login.user.unit.name if login else "Videotermin",
            next_step=("/termine", "Zu „Meine Termine“") if login else ("/login", "Zur Anmeldung"),
            staff=login.page_context if login else None,
        )
    )


async def checked_form(request: Request, login: CurrentLogin) -> FormData:
    """The submitted form, after its CSRF token matched the session's."""
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not tokens_equal(given, login.csrf_token):
        raise csrf_refused(login)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


async def checked_login_form(request: Request) -> FormData:
    """The login form, after its token matched the double-submit cookie."""
    form = await request.form()
    given = form.get(CSRF_FIELD)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if (
        not isinstance(given, str)
        or not looks_like_token(cookie)
        or not tokens_equal(given, cookie)
    ):
        raise csrf_refused()
    return form


LoginForm = Annotated[FormData, Depends(checked_login_form)]
