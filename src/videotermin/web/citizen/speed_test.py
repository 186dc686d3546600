"""Upload and download rate against this server, for the device check.

Both endpoints are public (the personal and the public check use them), so
each transfer is size-limited — to one check's budget for a direction, which the
page never exceeds — and every client has a byte budget
(:class:`web.check_requests.CheckLimits`). A larger download is refused, and so is a
larger upload, by its declared length before its body is read, or as soon as an
undeclared (chunked) body grows past the limit. The download is random bytes, so no
compression on the way (a proxy, the browser) can make the line look faster.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from videotermin.web.citizen.check_requests import (
    SPEED_BUDGET_BYTES,
    FromPage,
    Limits,
    refusal,
)
from videotermin.web.templating import NO_STORE, PageRoute

router = APIRouter(route_class=PageRoute)

# One download or upload at most; the page's transfers add up to no more than this.
MAX_SPEED_BYTES = SPEED_BUDGET_BYTES
# Every transfer costs the client's budget at least this much, so tiny ones are no loophole.
_CHUNK = 64 * 1024
DOWN_URL = "/check/speed/down"
UP_URL = "/check/speed/up"


@router.get(DOWN_URL)
async def speed_down(
    request: Request,
    limits: Limits,
    size: Annotated[int, Query(alias="bytes", ge=1, le=MAX_SPEED_BYTES)],
) -> StreamingResponse:
    limits.take(limits.speed_bytes, request, max(size, _CHUNK))

    async def random_bytes() -> AsyncIterator[bytes]:
        left = size
        while left > 0:
            chunk = os.urandom(min(_CHUNK, left))
            left -= len(chunk)
            yield chunk

    return StreamingResponse(
        random_bytes(),
        media_type="application/octet-stream",
        headers={**NO_STORE, "Content-Length": str(size), "Content-Encoding": "identity"},
    )


@router.post(UP_URL)
async def speed_up(request: Request, limits: Limits, _: FromPage) -> JSONResponse:
    """Read and discard the body; the page times the upload. A body without a declared
    length is charged as the largest it may be."""
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else MAX_SPEED_BYTES
    if size > MAX_SPEED_BYTES:
        raise refusal(413, {"error": "too_large", "limit": MAX_SPEED_BYTES})
    limits.take(limits.speed_bytes, request, max(size, _CHUNK))
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_SPEED_BYTES:
            raise refusal(413, {"error": "too_large", "limit": MAX_SPEED_BYTES})
    return JSONResponse({"bytes": received}, headers=NO_STORE)
