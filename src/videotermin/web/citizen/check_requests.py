"""What every JSON endpoint of the device check shares: refusals, the CSRF check,
bounded bodies, strict validation and the per-client limits of the public check.

The endpoints are called by the check page's script only. Each POST carries the
page's token in ``X-Check-Token`` matching the ``vt_check_csrf`` cookie (double
submit; the cookie is ``SameSite=Strict``), and a browser's ``Sec-Fetch-Site``
must say same-origin. Refusals are JSON, because a script reads them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from videotermin.domain.rate_limit import RateLimiter
from videotermin.domain.tokens import looks_like_token, tokens_equal
from videotermin.web.citizen.check_payload import field_errors
from videotermin.web.deps import client_address
from videotermin.web.templating import NO_STORE, PageExit

# What one device check's speed test may move each way (speedtest.js stops earlier on a
# line that proves it carries a call); no single transfer is larger.
SPEED_BUDGET_BYTES = 512 * 1024

CSRF_COOKIE = "vt_check_csrf"
CSRF_HEADER = "X-Check-Token"

Model = TypeVar("Model", bound=BaseModel)


def refusal(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> PageExit:
    """A JSON answer to raise from handlers and dependencies instead of a page."""
    return PageExit(JSONResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})}))


def checked_script_request(request: Request) -> None:
    """Refuse a POST that did not come from our own page's script (CSRF)."""
    site = request.headers.get("sec-fetch-site")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER, "")
    if (
        (site is not None and site != "same-origin")
        or not looks_like_token(cookie)
        or not tokens_equal(given, cookie)
    ):
        raise refusal(403, {"error": "csrf"})


FromPage = Annotated[None, Depends(checked_script_request)]


async def bounded_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise refusal(413, {"error": "too_large", "limit": limit})
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise refusal(413, {"error": "too_large", "limit": limit})
    return bytes(body)


def validated(model: type[Model], body: bytes) -> Model:
    """``body`` parsed as ``model``; 422 naming every refused field otherwise."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise refusal(422, {"errors": field_errors(exc)}) from None


@dataclass
class CheckLimits:
    """Per-client buckets of the endpoints anyone may call (no link needed)."""

    calls: RateLimiter
    results: RateLimiter
    speed_bytes: RateLimiter

    @classmethod
    def default(cls) -> CheckLimits:
        return cls(
            calls=RateLimiter(capacity=6, per_second=6 / 60),
            results=RateLimiter(capacity=12, per_second=12 / 60),
            # Four checks in a row pass, each at its budget both ways; one check's worth
            # comes back in eight seconds.
            speed_bytes=RateLimiter(
                capacity=8 * SPEED_BUDGET_BYTES, per_second=SPEED_BUDGET_BYTES / 4
            ),
        )

    def take(self, limiter: RateLimiter, request: Request, cost: float = 1.0) -> None:
        """Charge the client ``cost``; 429 with ``Retry-After`` when its bucket is empty."""
        wait = limiter.take(client_address(request), time.monotonic(), cost)
        if wait:
            raise refusal(
                429, {"error": "rate_limited"}, {"Retry-After": RateLimiter.retry_after(wait)}
            )


def _limits(request: Request) -> CheckLimits:
    """The app's buckets, made on first use so that every app (and test) has its own."""
    state = request.app.state
    if not hasattr(state, "check_limits"):
        state.check_limits = CheckLimits.default()
    return cast(CheckLimits, state.check_limits)  # app.state's attributes are Any


Limits = Annotated[CheckLimits, Depends(_limits)]
