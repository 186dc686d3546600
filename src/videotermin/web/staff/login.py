"""Staff login and logout (``/login``, ``/logout``) and the start page ``/``.

The password check and the session are :mod:`videotermin.services.staff_auth`'s;
this module turns them into the form, its messages (German msgids) and the cookie.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.passwords import MAX_PASSWORD
from videotermin.domain.rate_limit import RateLimiter
from videotermin.domain.staff import StaffRole
from videotermin.domain.text import N_, Text
from videotermin.services.staff_auth import (
    authenticate,
    lock_minutes_left,
    log_out,
    logins_changed,
    open_session,
)
from videotermin.services.units import default_unit_name
from videotermin.web.cookies import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    login_csrf_token,
    remember_login_csrf,
    safe_next,
    set_session_cookie,
)
from videotermin.web.deps import (
    Ctx,
    CurrentLogin,
    Db,
    LoginForm,
    OptionalLogin,
    checked_form,
    client_address,
)
from videotermin.web.staff import forms
from videotermin.web.staff.view import redirect, staff_render
from videotermin.web.templating import PageRoute

router = APIRouter(route_class=PageRoute)


async def _login_page(
    request: Request,
    ctx: AppContext,
    db: AsyncSession,
    *,
    next_path: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = login_csrf_token(request)
    unit_name = await default_unit_name(db)
    context = {
        "unit_name": unit_name,
        "csrf_token": token,
        "next": next_path,
        "values": values or {},
        "errors": errors or {},
    }
    response = staff_render(
        request, ctx, "staff/login.html", context, status=status, headers=headers
    )
    remember_login_csrf(response, ctx.settings, token)
    return response


def _lock_message(locked_until: datetime, ctx: AppContext, zone: ZoneInfo) -> str:
    minutes = lock_minutes_left(locked_until, ctx.clock())
    until = locked_until.astimezone(zone).strftime("%H:%M")
    if minutes == 1:
        return Text(
            "Zu viele fehlgeschlagene Anmeldeversuche: Die Anmeldung ist für 1 Minute "
            "gesperrt (bis %(time)s Uhr). Bitte versuchen Sie es danach noch einmal.",
            time=until,
        )
    return Text(
        "Zu viele fehlgeschlagene Anmeldeversuche: Die Anmeldung ist für %(minutes)s Minuten "
        "gesperrt (bis %(time)s Uhr). Bitte versuchen Sie es danach noch einmal.",
        minutes=minutes,
        time=until,
    )


@router.get("/")
async def home(login: OptionalLogin) -> RedirectResponse:
    if login is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(start_page(login.user.role), status_code=303)


def start_page(role: str) -> str:
    """Each role's start page: the support desk for support staff, the appointments else."""
    return "/support" if role == StaffRole.SUPPORT else "/termine"


@router.get("/login", response_model=None)
async def login_form(
    request: Request,
    ctx: Ctx,
    db: Db,
    login: OptionalLogin,
    next_path: Annotated[str, Query(alias="next")] = "",
) -> Response:
    if login is not None:
        return RedirectResponse(safe_next(next_path, start_page(login.user.role)), status_code=303)
    # No page asked for: after the login each role goes to its own start page.
    return await _login_page(request, ctx, db, next_path=safe_next(next_path, ""))


ADDRESS_ATTEMPTS = 20
"""Failed logins one client address may make in a row; one more every 15 seconds. The
per-name lock stops guessing one account; this stops one address trying many names
(and keeps it from filling the hashing threads). Every attempt takes from the budget
before its password is checked, and a successful one gives it back: a whole office
behind one address logging in at eight is not slowed down, a guesser is."""


def _address_limit(request: Request) -> RateLimiter:
    """The app's buckets, made on first use so that every app (and test) has its own."""
    state = request.app.state
    if not hasattr(state, "login_limit"):
        state.login_limit = RateLimiter(capacity=ADDRESS_ATTEMPTS, per_second=1 / 15)
    return cast(RateLimiter, state.login_limit)  # app.state's attributes are Any


@router.post("/login", response_model=None)
async def login_submit(request: Request, ctx: Ctx, db: Db, form: LoginForm) -> Response:
    values = forms.form_values(form)
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    username = values.get("username", "")
    next_path = safe_next(values.get("next"))
    address = client_address(request)
    wait = _address_limit(request).take(address, time.monotonic())
    if wait:
        return await _login_page(
            request,
            ctx,
            db,
            next_path=next_path,
            values={"username": username},
            errors={
                forms.GENERAL: Text(
                    "Von Ihrem Anschluss kamen sehr viele Anmeldeversuche. Bitte warten Sie "
                    "%(seconds)s Sekunden und versuchen Sie es dann noch einmal.",
                    seconds=RateLimiter.retry_after(wait),
                )
            },
            status=429,
            headers={"Retry-After": RateLimiter.retry_after(wait)},
        )
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = N_("Bitte geben Sie Ihren Benutzernamen an.")
    if not password:
        errors["password"] = N_("Bitte geben Sie Ihr Passwort an.")
    elif len(password) > MAX_PASSWORD:  # never a set password; argon2 time grows with it
        errors["password"] = Text(
            "Ein Passwort hat höchstens %(count)s Zeichen.", count=MAX_PASSWORD
        )
    if errors:
        return await _login_page(
            request, ctx, db, next_path=next_path, values=values, errors=errors, status=422
        )
    async with ctx.sessions() as session, session.begin():
        attempt = await authenticate(session, ctx, username, password)
        if attempt.user is not None:
            opened = await open_session(
                session, ctx, attempt.user, request.cookies.get(SESSION_COOKIE)
            )
    if attempt.user is not None:
        _address_limit(request).give_back(address)
        await logins_changed(ctx, opened.ended_for)
        if not values.get("next"):
            next_path = start_page(attempt.user.role)
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookie(response, ctx.settings, opened.token)
        clear_cookie(response, ctx.settings, LOGIN_CSRF_COOKIE)
        return response
    if attempt.locked_until is not None:
        zone = ZoneInfo(ctx.settings.timezone)
        retry = str(lock_minutes_left(attempt.locked_until, ctx.clock()) * 60)
        return await _login_page(
            request,
            ctx,
            db,
            next_path=next_path,
            values={"username": username},
            errors={forms.GENERAL: _lock_message(attempt.locked_until, ctx, zone)},
            status=429,
            headers={"Retry-After": retry},
        )
    return await _login_page(
        request,
        ctx,
        db,
        next_path=next_path,
        values={"username": username},
        errors={
            forms.GENERAL: N_(
                "Benutzername oder Passwort stimmen nicht. "
                "Bitte prüfen Sie Ihre Eingabe und versuchen Sie es noch einmal."
            )
        },
    )


@router.post("/logout", dependencies=[Depends(checked_form)])
async def logout(request: Request, ctx: Ctx, login: CurrentLogin) -> RedirectResponse:
    """Ends the session in the table, so the old cookie stops working everywhere at once."""
    await log_out(ctx, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(ctx, "/login", "logged_out")
    clear_cookie(response, ctx.settings, SESSION_COOKIE)
    return response
