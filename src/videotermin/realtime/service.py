"""An app instance's real-time parts: the presence service, and the timing they share.

Created when the app starts (by the waiting-room router's lifespan) and handed
to every WebSocket session and to the advisor's pages, which read presence
from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from videotermin.context import AppContext
from videotermin.realtime.presence import PresenceService
from videotermin.realtime.timing import Timing


@dataclass(frozen=True)
class Realtime:
    ctx: AppContext
    presence: PresenceService
    timing: Timing

    @classmethod
    def create(cls, ctx: AppContext, timing: Timing) -> Realtime:
        return cls(ctx, PresenceService(ctx.bus, ctx.clock, timing), timing)

    async def start(self) -> None:
        await self.presence.start()

    async def close(self) -> None:
        await self.presence.close()


def realtime_of(connection: HTTPConnection) -> Realtime:
    """The instance's :class:`Realtime`, for a request or a WebSocket."""
    realtime = connection.app.state.realtime
    assert isinstance(realtime, Realtime)
    return realtime
