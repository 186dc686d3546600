"""The safety re-read of every citizen connection of this instance, in batches.

A link's authority reaches its connection by events and alarms. The safety
re-read only heals an event the bus lost, so it needs no read per connection:
once about every ``recheck_seconds`` this sweep reads the authority of all the
links this instance holds, :data:`CHUNK` participants per statement, its chunks
spread evenly over the period (never a burst at the top of the minute), and
hands each connection what it found. A connection whose authority is unchanged
does nothing; one whose authority changed acts as it would on an event.

Ten thousand waiting citizens cost twenty statements a minute this way, where a
read per connection would cost a hundred and sixty-seven a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from videotermin.context import AppContext
from videotermin.realtime.timing import Timing
from videotermin.services.participation import LinkAuthority, links_authority

log = logging.getLogger(__name__)

CHUNK = 500
"""Participants per statement."""

Deliver = Callable[[LinkAuthority | None], None]
"""Hands a connection its link's authority as read (``None``: the link is gone)."""


class LinkSweep:
    def __init__(self, ctx: AppContext, timing: Timing) -> None:
        self._ctx = ctx
        self._timing = timing
        self._watched: dict[str, tuple[str, Deliver]] = {}
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._watched)

    def watch(
        self, connection_id: str, participant_id: str, deliver: Deliver
    ) -> Callable[[], None]:
        """Re-read ``participant_id``'s link for the connection until the callable returned
        is called."""
        self._watched[connection_id] = (participant_id, deliver)

        def stop() -> None:
            self._watched.pop(connection_id, None)

        return stop

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="link-sweep")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep_once(self, period: float = 0.0) -> None:
        """Read every watched link once, the chunks spread over ``period`` seconds."""
        connections = list(self._watched.items())
        chunks = [connections[i : i + CHUNK] for i in range(0, len(connections), CHUNK)]
        for chunk in chunks:
            await asyncio.sleep(period / len(chunks))
            participants = {participant for _, (participant, _) in chunk}
            try:
                found = await links_authority(self._ctx, participants)
            except Exception:  # a database hiccup: the next period reads again
                log.warning("link sweep failed", exc_info=True)
                continue
            for connection_id, (participant, deliver) in chunk:
                if connection_id in self._watched:
                    deliver(found.get(participant))

    async def _run(self) -> None:
        while True:
            period = self._timing.recheck_period()
            if not self._watched:
                await asyncio.sleep(period)
                continue
            await self.sweep_once(period)
