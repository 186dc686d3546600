"""An app instance's real-time parts: the presence service, and the timing they share.

Created and started by the app's lifespan (:func:`videotermin.app.create_app`) and
handed to every WebSocket session and to the advisor's pages, which read presence
from it (:data:`videotermin.web.deps.Live`).
"""

from __future__ import annotations

from dataclasses import dataclass

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

