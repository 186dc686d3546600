"""What every handler, job and command needs: settings, clock, database, the bus and the
app's metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from videotermin.bus.core import Bus, MemoryBus
from videotermin.domain.clock import Clock
from videotermin.media.echo import EchoService
from videotermin.observability import Metrics
from videotermin.settings import Settings


@dataclass
class TextCache:
    """Texts admins keep in the database (the active consent version), as last read;
    refreshed when older than a few seconds (:mod:`videotermin.services.consent_texts`)."""

    version: str | None = None
    texts: dict[str, str] = field(default_factory=dict)
    read_at: float = float("-inf")


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus = field(default_factory=MemoryBus)
    echo: EchoService | None = None
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: Metrics = field(default_factory=Metrics)
    """This app's Prometheus metrics (its own registry), served at ``/metrics``."""
    consent: TextCache = field(default_factory=TextCache)

    @cached_property
    def reads(self) -> AsyncEngine:
        """The same pool, each statement its own transaction: a single read on a hot path
        (a socket's authority) then costs no ``BEGIN`` and ``ROLLBACK`` round trips."""
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @cached_property
    def read_sessions(self) -> async_sessionmaker[AsyncSession]:
        """ORM sessions on :attr:`reads`, for the reads a socket repeats (who may direct a
        call, who is seated, who waits): what they read, they only read."""
        return async_sessionmaker(self.reads, expire_on_commit=False)

    def link_for(self, token: str) -> str:
        return f"{self.settings.public_url}/v/{token}"
