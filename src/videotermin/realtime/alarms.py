"""Alarms at instants known in advance, on the app's clock.

A connection's authority can end without anybody doing anything: a join window
closes, a staff login expires. Those instants are known when the authority is
read, so a session sets an alarm for them instead of reading the database again
every few seconds to find out. One heap and one sweep per app instance serve
every connection: the sweep costs the same whether ten or ten thousand
connections wait, and a session's alarm costs a heap entry.

The sweep compares the heap's earliest instant with ``clock()`` (the app's
clock, a :class:`~videotermin.domain.clock.FakeClock` in tests), so moving a
fake clock past an instant rings its alarm as surely as the time passing does.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable
from datetime import datetime

from videotermin.domain.clock import Clock

log = logging.getLogger(__name__)


class Alarm:
    """One alarm; :meth:`cancel` keeps it from ringing."""

    __slots__ = ("_alarms", "cancelled", "ring", "when")

    def __init__(self, alarms: Alarms, when: datetime, ring: Callable[[], None]) -> None:
        self.when = when
        self.ring = ring
        self.cancelled = False
        self._alarms = alarms

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._alarms.cancelled += 1


class Alarms:
    def __init__(self, clock: Clock, sweep_seconds: float) -> None:
        self._clock = clock
        self._sweep_seconds = sweep_seconds
        self._heap: list[tuple[datetime, int, Alarm]] = []
        self._order = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self.cancelled = 0
        """Cancelled alarms still in the heap."""

    def __len__(self) -> int:
        return len(self._heap)

    def at(self, when: datetime, ring: Callable[[], None]) -> Alarm:
        """Call ``ring`` (in the event loop, without arguments) once ``clock()`` has
        reached ``when``; within one sweep of it."""
        alarm = Alarm(self, when, ring)
        heapq.heappush(self._heap, (when, next(self._order), alarm))
        return alarm

    def ring_due(self) -> int:
        """Ring every alarm whose instant has come; how many rang."""
        now = self._clock()
        rang = 0
        while self._heap and self._heap[0][0] <= now:
            _when, _order, alarm = heapq.heappop(self._heap)
            if alarm.cancelled:
                self.cancelled -= 1
                continue
            alarm.cancelled = True  # rung: a later cancel() counts nothing
            rang += 1
            try:
                alarm.ring()
            except Exception:  # one session's trouble must not silence the others'
                log.warning("alarm failed", exc_info=True)
        # Sessions re-arm whenever their authority is read again, and the old entries
        # stay until their instant: compact once they are most of the heap.
        if self.cancelled > 64 and self.cancelled * 2 > len(self._heap):
            self._heap = [entry for entry in self._heap if not entry[2].cancelled]
            heapq.heapify(self._heap)
            self.cancelled = 0
        return rang

    async def start(self) -> None:
        self._task = asyncio.create_task(self._sweep(), name="alarms-sweep")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_seconds)
            self.ring_due()
