"""Readiness: can this instance reach what it depends on right now?

The database answers a ``SELECT 1`` within a short timeout, and, when the settings
name a Redis server, the bus answers a PING. Each dependency is reported as
``ok`` or ``unreachable`` only; why it failed goes to the log as the error's type,
never to the caller. Liveness needs no check at all (``/healthz``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import text

from videotermin.context import AppContext

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
OK = "ok"
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Readiness:
    database: str
    redis: str | None
    """``None`` when no Redis is configured (the embedded bus needs no check)."""

    @property
    def ready(self) -> bool:
        return self.database == OK and self.redis in (OK, None)

    def as_dict(self) -> dict[str, str]:
        checks = {"database": self.database}
        if self.redis is not None:
            checks["redis"] = self.redis
        return {"status": "ok" if self.ready else "unavailable", **checks}


async def database_reachable(ctx: AppContext, timeout: float = CHECK_SECONDS) -> bool:
    try:
        async with asyncio.timeout(timeout), ctx.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("readiness_failed dependency=database error=%s", type(exc).__name__)
        return False
    return True


async def bus_reachable(ctx: AppContext) -> bool:
    ok = await ctx.bus.ping()
    if not ok:
        log.warning("readiness_failed dependency=redis")
    return ok


async def readiness(ctx: AppContext) -> Readiness:
    """Both checks at once, so a slow database does not delay the Redis answer."""
    if ctx.settings.redis_url:
        database, redis = await asyncio.gather(database_reachable(ctx), bus_reachable(ctx))
        return Readiness(OK if database else UNREACHABLE, OK if redis else UNREACHABLE)
    return Readiness(OK if await database_reachable(ctx) else UNREACHABLE, None)
