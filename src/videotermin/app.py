"""The ASGI app factory: wires settings, clock, store, jobs and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from videotermin.bus.core import Bus
from videotermin.bus.factory import bus_for
from videotermin.context import AppContext
from videotermin.domain.clock import Clock, system_clock
from videotermin.domain.text import N_
from videotermin.jobs.outbox import OutboxWorker
from videotermin.jobs.retention import retention_job
from videotermin.jobs.statistics import statistics_job
from videotermin.mail.transport import transport_for
from videotermin.media.echo import EchoService
from videotermin.realtime import timing
from videotermin.realtime.connection import refuse_unavailable
from videotermin.realtime.service import Realtime
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory, unreachable
from videotermin.web import ops, unavailable
from videotermin.web.admin import audit as admin_audit
from videotermin.web.admin import staff as admin_staff
from videotermin.web.admin import statistics as admin_statistics
from videotermin.web.admin import texts as admin_texts
from videotermin.web.admin import tokens as admin_tokens
from videotermin.web.admin import units as admin_units
from videotermin.web.api import v1 as api_v1
from videotermin.web.citizen import device_check, link, privacy, survey, waiting_room
from videotermin.web.compression import CompressionMiddleware
from videotermin.web.deps import storable_address
from videotermin.web.language import chosen_language
from videotermin.web.middleware import (
    AccessLogMiddleware,
    HeadMiddleware,
    MetricsMiddleware,
    SecurityHeadersMiddleware,
)
from videotermin.web.sockets import SocketRoutes
from videotermin.web.staff import appointments, call, live, login, password
from videotermin.web.static_files import VersionedStaticFiles
from videotermin.web.support import desk
from videotermin.web.support import live as support_live
from videotermin.web.templating import message_page

log = logging.getLogger("videotermin.web")

SOCKETS = SocketRoutes(
    {
        "/ws/v/{token}": waiting_room.citizen_socket,  # the citizen's waiting room and call
        "/ws/call/{appointment_id}": call.call_socket,  # the advisor's call
        "/ws/staff": live.staff_socket,  # the staff's live lists
        "/ws/support": support_live.support_socket,  # the support desk's live view
    }
)


class App(FastAPI):
    """FastAPI, except that the WebSocket endpoints are reached directly
    (:mod:`videotermin.web.sockets`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = SOCKETS.match(scope["path"]) if scope["type"] == "websocket" else None
        if found is None:
            await super().__call__(scope, receive, send)
            return
        endpoint, params = found
        scope["app"] = self
        scope["path_params"] = params
        websocket = WebSocket(scope, receive, send)
        try:
            await endpoint(websocket, **params)
        except Exception as error:
            if not unreachable(error):
                raise
            log.warning("socket_database_unreachable error=%s", type(error).__name__)
            await refuse_unavailable(websocket)


def create_app(settings: Settings, clock: Clock = system_clock, bus: Bus | None = None) -> FastAPI:
    """Build the app. ``clock`` and ``bus`` are replaced only by tests; production always
    uses system time and the bus its settings choose."""
    engine = create_engine(settings.database_url or "")
    ctx = AppContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=session_factory(engine),
        bus=bus if bus is not None else bus_for(settings),
        echo=EchoService(settings),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Everything the app runs starts here and stops in reverse order: the real-time
        parts (presence across instances) before the bus they speak over closes."""
        realtime = Realtime.create(ctx, timing.current())
        worker = OutboxWorker(ctx, transport_for(settings, ctx.clock))
        jobs = [retention_job(ctx), statistics_job(ctx)]
        await realtime.start()
        app.state.realtime = realtime
        worker.start()
        for job in jobs:
            job.start()
        lag = asyncio.create_task(ctx.metrics.watch_event_loop_lag(), name="event-loop-lag")
        try:
            with ctx.metrics.watching_gc():
                yield
        finally:
            lag.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag
            for job in jobs:
                await job.stop()
            await worker.stop()
            await realtime.close()
            if ctx.echo is not None:
                await ctx.echo.close()
            await ctx.bus.close()
            await engine.dispose()

    app = App(
        title="Videotermin",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(storable_address)],  # an address with NUL names nothing
    )
    app.state.ctx = ctx
    app.add_middleware(CompressionMiddleware)  # innermost: it sees the app's own headers
    app.add_middleware(HeadMiddleware)  # outside compression: HEAD gets GET's very headers
    app.add_middleware(SecurityHeadersMiddleware, secure=settings.secure_cookies)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=ctx.metrics)
    app.mount("/static", VersionedStaticFiles(), name="static")
    app.router.routes.append(api_mount(api_v1.create_api(ctx)))
    for router in (link, device_check, waiting_room, survey, privacy):  # the citizen's pages
        app.include_router(router.router)
    for router in (login, password, appointments, call, desk):  # the staff's
        app.include_router(router.router)
    admins = (admin_staff, admin_units, admin_tokens, admin_texts, admin_statistics, admin_audit)
    for router in admins:
        app.include_router(router.router)
    app.include_router(ops.router)  # the operators' probes and metrics
    app.add_exception_handler(StarletteHTTPException, page_for_http_error)
    app.add_exception_handler(RequestValidationError, page_for_invalid_request)
    for error in unavailable.CLASSES:  # the database is down or restarting: 503, not 500
        app.add_exception_handler(error, unavailable.page)
    return app


def api_mount(api: FastAPI) -> Mount:
    """The API at ``/api/v1``, for every path below it: Starlette's mount matches the rest
    of the path with ``.*``, which stops at an encoded line break (``%0A``) — such a path
    would fall through to the pages and get an HTML page instead of the API's JSON."""
    mount = Mount("/api/v1", app=api)
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount


async def page_for_http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods get a calm page, not FastAPI's JSON."""
    assert isinstance(exc, StarletteHTTPException)
    language = chosen_language(request)
    if exc.status_code == 404:
        return message_page(
            404,
            N_("Diese Seite gibt es nicht"),
            N_(
                "Bitte prüfen Sie die Adresse. Wenn Sie einem Link aus einer E-Mail gefolgt "
                "sind, öffnen Sie ihn bitte noch einmal direkt aus der E-Mail."
            ),
            language=language,
        )
    page = message_page(
        exc.status_code,
        N_("Das hat nicht geklappt"),
        N_(
            "Diese Aktion ist hier nicht möglich. Bitte gehen Sie zurück und versuchen Sie "
            "es noch einmal."
        ),
        language=language,
    )
    if exc.status_code == 405:
        page.headers["Allow"] = ", ".join(_allowed_methods(request))
    return page


async def page_for_invalid_request(request: Request, exc: Exception) -> Response:
    """A page address whose path or query does not fit its type (a word for a number, a
    filter longer than any): not found when the path is wrong, a calm 422 page when the
    query is — never FastAPI's JSON, which would echo the input back."""
    assert isinstance(exc, RequestValidationError)
    in_path = any(error["loc"][0] == "path" for error in exc.errors())
    return await page_for_http_error(request, StarletteHTTPException(404 if in_path else 422))


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes for this path (Starlette names only the first
    route's), and ``HEAD`` wherever ``GET`` works (:class:`HeadMiddleware`)."""
    methods = _methods_for(request.app.router.routes, request.scope)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _methods_for(routes: list[BaseRoute], scope: Scope) -> set[str]:
    methods: set[str] = set()
    for route in routes:
        included = getattr(
            route, "original_router", None
        )  # an included router, as FastAPI keeps it
        if included is not None:
            methods |= _methods_for(included.routes, scope)
        elif route.matches(scope)[0] != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return methods
