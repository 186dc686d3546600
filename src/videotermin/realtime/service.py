"""An app instance's real-time parts: the presence service, the alarms, and the timing they
share.

Created and started by the app's lifespan (:func:`videotermin.app.create_app`) and
handed to every WebSocket session and to the advisor's pages, which read presence
from it (:data:`videotermin.web.deps.Live`).
"""

from __future__ import annotations

from dataclasses import dataclass

from videotermin.context import AppContext
from videotermin.observability import Metrics
from videotermin.realtime.alarms import Alarms
from videotermin.realtime.link_sweep import LinkSweep
from videotermin.realtime.presence import PresenceService
from videotermin.realtime.timing import Timing


@dataclass(frozen=True)
class Realtime:
    ctx: AppContext
    presence: PresenceService
    timing: Timing
    alarms: Alarms
    """Instants on the app's clock at which a session's authority may end by itself."""
    links: LinkSweep
    """The safety re-read of this instance's citizen connections, in batches."""
    metrics: Metrics
    """The app's metrics (the context's): sessions count their connections here."""

    @classmethod
    def create(cls, ctx: AppContext, timing: Timing) -> Realtime:
        presence = PresenceService(ctx.bus, ctx.clock, timing)
        ctx.metrics.observe_presence(
            lambda: presence.board.held_by(presence.instance_id, in_call=False),
            lambda: presence.board.held_by(presence.instance_id, in_call=True),
        )
        alarms = Alarms(ctx.clock, timing.sweep_seconds)
        return cls(ctx, presence, timing, alarms, LinkSweep(ctx, timing), ctx.metrics)

    async def start(self) -> None:
        await self.presence.start()
        await self.alarms.start()
        await self.links.start()

    async def close(self) -> None:
        await self.links.close()
        await self.alarms.close()
        await self.presence.close()
