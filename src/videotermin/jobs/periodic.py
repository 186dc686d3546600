"""A job the app's lifespan runs at start and then every so often, surviving errors
(the retention purge, the statistics). Each run's work decides for itself whether this
instance does it (locks, conditional updates): every instance runs every job."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from videotermin.context import AppContext

log = logging.getLogger("videotermin.jobs")


class PeriodicJob:
    def __init__(
        self,
        ctx: AppContext,
        name: str,
        every: timedelta,
        work: Callable[[AppContext], Awaitable[object]],
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.every = every
        self.work = work
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.work(self.ctx)
            except Exception as exc:
                log.error("%s_failed error=%s", self.name, type(exc).__name__)
            await asyncio.sleep(self.every.total_seconds())
