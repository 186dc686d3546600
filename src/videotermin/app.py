"""The ASGI app factory: wires settings, clock, store, jobs and routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from videotermin.context import AppContext
from videotermin.domain.clock import Clock, system_clock
from videotermin.jobs.outbox import OutboxWorker
from videotermin.mail.transport import transport_for
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.web import api_v1, citizen, staff
from videotermin.web.middleware import AccessLogMiddleware, SecurityHeadersMiddleware

STATIC = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings, clock: Clock = system_clock) -> FastAPI:
    """Build the app. ``clock`` is replaced only by tests; production always uses system time."""
    engine = create_engine(settings.database_url or "")
    ctx = AppContext(
        settings=settings, clock=clock, engine=engine, sessions=session_factory(engine)
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = OutboxWorker(ctx, transport_for(settings))
        worker.start()
        try:
            yield
        finally:
            await worker.stop()
            await engine.dispose()

    app = FastAPI(
        title="Videotermin",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.ctx = ctx
    app.add_middleware(SecurityHeadersMiddleware, secure=settings.secure_cookies)
    app.add_middleware(AccessLogMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/api/v1", api_v1.create_api(ctx))
    app.include_router(citizen.router)
    app.include_router(staff.router)
    return app
