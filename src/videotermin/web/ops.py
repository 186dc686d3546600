"""For operators and their probes: liveness, readiness and Prometheus metrics.

``/healthz`` answers while the process serves (no I/O); ``/readyz`` asks
:mod:`videotermin.services.health` whether the database (and Redis, when
configured) answers; ``/metrics`` renders this app's own registry
(:mod:`videotermin.observability`). None of them is ever cached.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from videotermin.observability import CONTENT_TYPE
from videotermin.services.health import readiness
from videotermin.web.deps import AppMetrics, Ctx

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}
METHODS = ["GET", "HEAD"]


@router.api_route("/healthz", methods=METHODS)
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.api_route("/readyz", methods=METHODS)
async def readyz(ctx: Ctx) -> JSONResponse:
    state = await readiness(ctx)
    return JSONResponse(state.as_dict(), status_code=200 if state.ready else 503, headers=NO_STORE)


@router.api_route("/metrics", methods=METHODS)
async def metrics(registry: AppMetrics) -> Response:
    return Response(registry.render(), media_type=CONTENT_TYPE, headers=NO_STORE)
