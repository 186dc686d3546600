"""What handlers declare: ``Annotated`` dependencies, so each handler stays one screen
long and none can forget a check (the style of the FastAPI project template's
``api/deps.py``).

- ``Ctx``, ``Db``: the app context and a read session.
- ``Live``: the instance's real-time parts (presence), for pages that show it.
- ``OptionalLogin``, ``CurrentLogin``, ``CurrentAdvisor``, ``CurrentSupport``,
  ``CurrentAdmin``: the staff login of the request's session cookie; the latter four
  redirect to the login or refuse.
- ``CheckedForm``, ``LoginForm``: the submitted form, after its CSRF token matched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import chain
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import HTTPConnection

from videotermin.context import AppContext
from videotermin.domain.staff import ADVISOR_ROLES, may_administer, may_look_up
from videotermin.domain.text import N_
from videotermin.domain.text_input import storable
from videotermin.domain.tokens import looks_like_token, tokens_equal
from videotermin.observability import Metrics
from videotermin.realtime.service import Realtime
from videotermin.services.staff_auth import Login, current_login
from videotermin.web.cookies import CSRF_FIELD, LOGIN_CSRF_COOKIE, SESSION_COOKIE
from videotermin.web.language import chosen_language
from videotermin.web.templating import PageExit, message_page


def client_address(request: Request) -> str:
    """The client's address for per-address limits (a trusted proxy's X-Forwarded-For,
    as uvicorn resolved it)."""
    return request.client.host if request.client else "unknown"


def context_of(connection: HTTPConnection) -> AppContext:
    """The app's context, for a request or a WebSocket."""
    ctx = connection.app.state.ctx
    assert isinstance(ctx, AppContext)
    return ctx


def realtime_of(connection: HTTPConnection) -> Realtime:
    """The instance's :class:`Realtime`, for a request or a WebSocket."""
    realtime = connection.app.state.realtime
    assert isinstance(realtime, Realtime)
    return realtime


def metrics_of(connection: HTTPConnection) -> Metrics:
    """The app's own metrics registry (kept on its context)."""
    return context_of(connection).metrics


Ctx = Annotated[AppContext, Depends(context_of)]
Live = Annotated[Realtime, Depends(realtime_of)]
AppMetrics = Annotated[Metrics, Depends(metrics_of)]


async def get_db(ctx: Ctx) -> AsyncIterator[AsyncSession]:
    """A session for reading; changes use their own ``ctx.sessions()`` transaction."""
    async with ctx.sessions() as db:
        yield db


Db = Annotated[AsyncSession, Depends(get_db)]


async def optional_login(request: Request, ctx: Ctx) -> Login | None:
    """Read in a session of its own that is closed at once: a request that waits on
    something else (a lock, a write) holds no pooled connection for its login."""
    return await current_login(ctx, request.cookies.get(SESSION_COOKIE))


OptionalLogin = Annotated[Login | None, Depends(optional_login)]


def require_login(request: Request, login: OptionalLogin) -> Login:
    if login is None:
        target = request.url.path if request.method == "GET" else "/termine"
        raise PageExit(RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303))
    return login


CurrentLogin = Annotated[Login, Depends(require_login)]


def _area_refused(
    request: Request,
    login: Login,
    title: str,
    text: str,
    next_step: tuple[str, str] | None = None,
) -> PageExit:
    """The 403 page of a staff area the account's role does not open: what the area is,
    why this account cannot use it, and whom to ask."""
    return PageExit(
        message_page(
            403,
            title,
            text,
            login.user.unit.name,
            next_step=next_step,
            staff=login.page_context,
            language=chosen_language(request),
        )
    )


def require_advisor(request: Request, login: CurrentLogin) -> Login:
    """Appointments are the advisors' (and admins') area; support staff get a clear refusal."""
    if login.user.role not in ADVISOR_ROLES:
        raise _area_refused(
            request,
            login,
            N_("Dieser Bereich ist für Beraterinnen und Berater"),
            N_(
                "Mit Ihrem Konto (Rolle: Support) können Sie keine Termine ansehen oder "
                "anlegen. Wenn Sie Termine betreuen, bitten Sie Ihre Administration, "
                "Ihrem Konto die Rolle „Beratung“ zu geben."
            ),
        )
    return login


CurrentAdvisor = Annotated[Login, Depends(require_advisor)]


def require_support(request: Request, login: CurrentLogin) -> Login:
    """The support desk is for support staff and admins; advisors get a clear refusal."""
    if not may_look_up(login.user.role):
        raise _area_refused(
            request,
            login,
            N_("Dieser Bereich ist für den Support"),
            N_(
                "Mit Ihrem Konto können Sie keine Support-Codes nachschlagen. Wenn Sie "
                "Anrufende unterstützen, bitten Sie Ihre Administration um die Rolle „Support“."
            ),
            next_step=("/termine", N_("Zu „Meine Termine“")),
        )
    return login


CurrentSupport = Annotated[Login, Depends(require_support)]


def require_admin(request: Request, login: CurrentLogin) -> Login:
    """The administration is for admins; everyone else gets a clear refusal."""
    if not may_administer(login.user.role):
        raise _area_refused(
            request,
            login,
            N_("Dieser Bereich ist für die Administration"),
            N_(
                "Mit Ihrem Konto können Sie Dienststellen, Konten, API-Tokens und das "
                "Protokoll nicht verwalten."
            ),
            next_step=("/", N_("Zur Startseite")),
        )
    return login


CurrentAdmin = Annotated[Login, Depends(require_admin)]


def csrf_refused(language: str, login: Login | None = None) -> PageExit:
    return PageExit(
        message_page(
            403,
            N_("Das Formular konnte nicht angenommen werden"),
            N_(
                "Das Formular war abgelaufen oder unvollständig. Aus Sicherheitsgründen wurde "
                "nichts gespeichert und nichts geändert. Bitte laden Sie die Seite neu und "
                "versuchen Sie es noch einmal."
            ),
            login.user.unit.name if login else "Videotermin",
            next_step=(
                ("/termine", N_("Zu „Meine Termine“")) if login else ("/login", N_("Zur Anmeldung"))
            ),
            staff=login.page_context if login else None,
            language=language,
        )
    )


def storable_address(request: Request) -> None:
    """An address holding NUL (``%00``, in its path or its query) names nothing here: no
    id, token or filter has one, and PostgreSQL cannot even look it up. Not found, before
    any handler reads it (the app's and the API's dependency)."""
    texts = [request.scope["path"], *chain.from_iterable(request.query_params.multi_items())]
    if not all(map(storable, texts)):
        raise HTTPException(404)


async def checked_form(request: Request, login: CurrentLogin) -> FormData:
    """The submitted form, after its CSRF token matched the session's."""
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not tokens_equal(given, login.csrf_token):
        raise csrf_refused(chosen_language(request), login)
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
        raise csrf_refused(chosen_language(request))
    return form


LoginForm = Annotated[FormData, Depends(checked_login_form)]
